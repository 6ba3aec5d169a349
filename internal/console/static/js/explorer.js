// Provider explorer: find providers by a part of their name, the start of
// their UUID, a trait or an aggregate (GET /allot/v1/resource_providers,
// a page at a time), and draw a provider's tree with each node's
// inventories (used/capacity bars), traits, aggregates, sharing relations
// and the consumers allocated on it. The open tree follows the cloud.
import {get, APIError} from './api.js';
import {h, fmt, meter, table} from './dom.js';

// SHOWN is a page of search results; DETAILED bounds the tree nodes whose
// details are fetched (six reads each); CONSUMERS the consumers listed per
// provider; SERVES the trees named per sharing provider.
const SHOWN = 50;
const DETAILED = 100;
const CONSUMERS = 100;
const SERVES = 50;

const searches = {
  name: {label: 'Name', param: 'name', hint: 'part of a name, any case: compute-1'},
  uuid: {label: 'UUID', param: 'uuid', hint: 'the start of a UUID: 5d3a57f8'},
  trait: {label: 'Trait', param: 'required', hint: 'HW_CPU_X86_AVX2, !CUSTOM_SLOW or in:A,B'},
  aggregate: {label: 'Aggregate', param: 'member_of', hint: 'an aggregate UUID, or in:A,B'},
};

// open is the tree on screen (its root, the provider in focus and the
// element it is drawn in), which refresh draws again.
let open = null;

export async function render(root) {
  open = null;
  const by = h('select', {id: 'ex-by', name: 'by'}, Object.entries(searches).map(([k, s]) => h('option', {value: k}, s.label)));
  const text = h('input', {type: 'text', id: 'ex-text', name: 'text', placeholder: searches.name.hint});
  by.addEventListener('change', () => { text.placeholder = searches[by.value].hint; });
  const form = h('form', {id: 'explorer-form'}, h('label', {}, 'Find by ', by), ' ', text, ' ', h('button', {type: 'submit'}, 'Search'));
  const results = h('div', {id: 'explorer-results'});
  const tree = h('div', {id: 'explorer-tree'});
  root.append(h('h2', {}, 'Providers'), form, results, tree);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    delete document.body.dataset.answered;
    try {
      await search(by.value, text.value.trim(), 0, results, tree);
    } catch (e) {
      results.replaceChildren(h('p', {class: 'error'}, e.message));
    }
    document.body.dataset.answered = 'yes';
  });
  const want = new URLSearchParams(location.hash.split('?')[1] || '');
  for (const k of ['uuid', 'aggregate', 'name', 'trait']) {
    if (want.get(k)) {
      by.value = k;
      text.value = want.get(k);
      await search(k, text.value, 0, results, tree);
      break;
    }
  }
}

// redrawing is a redraw under way; again asks it for one more when done
// (the cloud changed during it), so redraws never overlap.
let redrawing = false;
let again = false;

// refresh draws the open tree again (the cloud changed), keeping the
// reader's place: the scroll position and the consumer lists left open.
export async function refresh() {
  if (redrawing) {
    again = true;
    return;
  }
  redrawing = true;
  try {
    do {
      again = false;
      if (!open || !open.el.isConnected) return;
      const y = window.scrollY;
      const unfolded = [...open.el.querySelectorAll('details[open]')].map((d) => d.dataset.key);
      await drawTree(open.root, open.focus, open.el);
      for (const d of open.el.querySelectorAll('details')) {
        if (unfolded.includes(d.dataset.key)) d.open = true;
      }
      window.scrollTo(0, y);
    } while (again);
  } finally {
    redrawing = false;
  }
}

async function search(by, value, offset, results, tree) {
  tree.replaceChildren();
  open = null;
  if (!value) {
    results.replaceChildren(h('p', {class: 'error'}, `Enter a ${searches[by].label.toLowerCase()} to search for.`));
    return;
  }
  const q = new URLSearchParams({[searches[by].param]: value, limit: SHOWN, offset});
  const ans = await get('/allot/v1/resource_providers?' + q, '');
  const found = ans.resource_providers;
  if (ans.count === 0) {
    results.replaceChildren(h('p', {id: 'explorer-none'}, 'No provider matches.'));
    return;
  }
  const rows = found.map((p) => {
    const a = h('a', {href: '#/explorer?uuid=' + p.uuid}, p.name);
    a.addEventListener('click', (ev) => { ev.preventDefault(); drawTree(p.root_provider_uuid, p.uuid, tree); });
    return h('tr', {dataset: {uuid: p.uuid}}, h('td', {}, a), h('td', {}, h('code', {}, p.uuid)), h('td', {}, p.parent_provider_uuid ? 'child' : 'root'));
  });
  const go = (o) => search(by, value, o, results, tree).catch((e) => results.replaceChildren(h('p', {class: 'error'}, e.message)));
  const nav = [];
  if (ans.count > SHOWN) {
    const prev = h('button', {type: 'button', id: 'explorer-prev'}, 'Previous');
    const next = h('button', {type: 'button', id: 'explorer-next'}, 'Next');
    prev.disabled = offset === 0;
    next.disabled = offset + SHOWN >= ans.count;
    prev.addEventListener('click', () => go(Math.max(0, offset - SHOWN)));
    next.addEventListener('click', () => go(offset + SHOWN));
    nav.push(h('div', {class: 'pager'}, prev, ' ', next));
  }
  results.replaceChildren(
    h('p', {class: 'muted', id: 'explorer-count', dataset: {count: ans.count}},
      ans.count > SHOWN ? `${fmt(ans.count)} match; ${fmt(offset + 1)} to ${fmt(offset + found.length)} by name:` : `${fmt(ans.count)} match.`),
    table(['Name', 'UUID', ''], rows, {id: 'explorer-found'}), nav);
  // One tree holds every match, or one match has exactly the name asked
  // for: draw it.
  const exact = by === 'name' ? found.find((p) => p.name.toLowerCase() === value.toLowerCase()) : null;
  const roots = new Set(found.map((p) => p.root_provider_uuid));
  if (ans.count === found.length && roots.size === 1) {
    await drawTree(found[0].root_provider_uuid, (exact || found[0]).uuid, tree);
  } else if (exact) {
    await drawTree(exact.root_provider_uuid, exact.uuid, tree);
  }
}

// details reads what a node shows: five standard reads and the console's
// consumers (a caller who may not list consumers sees none).
async function details(p) {
  const base = '/resource_providers/' + p.uuid;
  const consumers = get(`/allot/v1/resource_providers/${p.uuid}/consumers?limit=${CONSUMERS}`, '').catch((e) => {
    if (e instanceof APIError && e.status === 403) return {forbidden: true, count: 0, consumers: []};
    throw e;
  });
  const [inv, use, tr, ag, co] = await Promise.all([get(base + '/inventories'), get(base + '/usages'), get(base + '/traits'),
    get(base + '/aggregates'), consumers]);
  const d = {inventories: inv.inventories, usages: use.usages, traits: tr.traits, aggregates: ag.aggregates, consumers: co};
  if (d.traits.includes('MISC_SHARES_VIA_AGGREGATE')) d.sharing = await get(`/allot/v1/resource_providers/${p.uuid}/sharing?limit=${SERVES}`, '');
  return d;
}

async function drawTree(rootUUID, focus, el) {
  // A refresh draws the tree open again: the same object, not a new one.
  const mine = open && open.root === rootUUID && open.focus === focus && open.el === el ? open : {root: rootUUID, focus, el};
  open = mine;
  if (!el.firstChild) el.replaceChildren(h('p', {class: 'muted'}, 'Loading the tree…'));
  const [members, treeSharing] = await Promise.all([
    get('/resource_providers?in_tree=' + rootUUID).then((a) => a.resource_providers),
    get(`/allot/v1/resource_providers/${rootUUID}/sharing`, '').catch((e) => {
      if (e instanceof APIError && e.status === 404) return null; // the tree is gone
      throw e;
    }),
  ]);
  const info = new Map();
  const detailed = members.slice(0, DETAILED);
  for (let i = 0; i < detailed.length; i += 8) {
    await Promise.all(detailed.slice(i, i + 8).map(async (p) => info.set(p.uuid, await details(p))));
  }
  // Another tree was opened (or a search started) meanwhile: it draws.
  if (open !== mine) return;
  const kids = new Map();
  for (const p of members) {
    const parent = p.parent_provider_uuid || '';
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(p);
  }
  const node = (p) => {
    const d = info.get(p.uuid);
    const body = [h('div', {}, h('span', {class: 'name'}, p.name), ' ', h('code', {class: 'muted'}, p.uuid),
      h('span', {class: 'muted'}, ` generation ${p.generation}`))];
    if (d) body.push(...nodeDetails(p, d));
    else body.push(h('div', {class: 'muted'}, `(details of the first ${DETAILED} providers of a tree only)`));
    const children = kids.get(p.uuid) || [];
    return h('li', {class: 'node', dataset: p.uuid === focus ? {uuid: p.uuid, focus: 'yes'} : {uuid: p.uuid}}, body,
      children.length ? h('ul', {class: 'tree'}, children.map(node)) : null);
  };
  if (members.length === 0) {
    el.replaceChildren(h('p', {class: 'muted'}, 'This tree no longer exists.'));
    return;
  }
  const top = members.filter((p) => !p.parent_provider_uuid || !members.some((m) => m.uuid === p.parent_provider_uuid));
  const sharedBy = treeSharing ? treeSharing.shared_by : [];
  el.replaceChildren(h('h3', {}, `Tree of ${top.map((p) => p.name).join(', ')} (${fmt(members.length)} providers)`),
    h('div', {id: 'explorer-shared-by'}, 'Sharing providers serving this tree: ',
      sharedBy.length === 0 ? h('span', {class: 'muted'}, 'none') :
        sharedBy.map((s) => h('a', {class: 'tag', href: '#/explorer?uuid=' + s.uuid, dataset: {uuid: s.uuid}}, s.name))),
    h('ul', {class: 'tree top'}, top.map(node)));
  el.dataset.drawn = String(Date.now());
}

// nodeDetails draws one provider's inventories, traits, aggregates,
// sharing and consumers.
function nodeDetails(p, d) {
  const out = [];
  const invRows = Object.entries(d.inventories).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rc, inv]) => {
    const capacity = Math.floor((inv.total - inv.reserved) * inv.allocation_ratio);
    const used = d.usages[rc] || 0;
    return h('tr', {dataset: {class: rc}}, h('td', {}, rc), h('td', {class: 'num'}, fmt(used)), h('td', {class: 'num'}, fmt(capacity)),
      h('td', {}, meter(used, capacity)), h('td', {class: 'muted'}, `total ${fmt(inv.total)}, reserved ${fmt(inv.reserved)}, ratio ${inv.allocation_ratio}`));
  });
  if (invRows.length) out.push(table(['Class', 'Used', 'Capacity', '', ''], invRows, {class: 'inventories'}));
  if (d.traits.length) out.push(h('div', {}, 'Traits: ', d.traits.sort().map((t) => h('span', {class: 'tag'}, t))));
  if (d.aggregates.length) {
    out.push(h('div', {}, 'Aggregates: ', d.aggregates.sort().map((a) => h('a', {class: 'tag', href: '#/explorer?aggregate=' + a}, a))));
  }
  if (d.sharing) {
    const s = d.sharing;
    out.push(h('div', {class: 'sharing', dataset: {serves: s.serves_count}},
      `Shares its inventory with ${fmt(s.serves_count)} tree${s.serves_count === 1 ? '' : 's'} through its aggregates: `,
      s.serves.map((r) => h('a', {class: 'tag', href: '#/explorer?uuid=' + r.uuid, dataset: {uuid: r.uuid}}, r.name)),
      s.serves_count > s.serves.length ? h('span', {class: 'muted'}, ` and ${fmt(s.serves_count - s.serves.length)} more`) : null));
  }
  const co = d.consumers;
  if (co.forbidden) {
    out.push(h('div', {class: 'muted'}, 'Consumers: not shown (policy does not let this token list allocations).'));
  } else if (co.count) {
    out.push(h('details', {class: 'allocations', dataset: {key: p.uuid}},
      h('summary', {}, `${fmt(co.count)} consumer${co.count === 1 ? '' : 's'}` + (co.count > co.consumers.length ? ` (the first ${fmt(co.consumers.length)} listed)` : '')),
      table(['Consumer', 'Project', 'User', 'Type', 'Resources'], co.consumers.map((c) => h('tr', {dataset: {consumer: c.consumer_uuid}},
        h('td', {}, h('code', {}, c.consumer_uuid)), h('td', {dataset: {field: 'project'}}, c.project_id), h('td', {dataset: {field: 'user'}}, c.user_id),
        h('td', {dataset: {field: 'type'}}, c.consumer_type),
        h('td', {dataset: {field: 'resources'}}, Object.entries(c.resources).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rc, n]) => `${rc}=${fmt(n)}`).join(', ')))))));
  }
  return out;
}
