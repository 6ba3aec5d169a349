// Provider explorer: find providers by name, UUID, trait or aggregate,
// and draw a provider's tree with each node's inventories (used/capacity
// bars), traits and aggregates.
import {get} from './api.js';
import {h, fmt, meter, table} from './dom.js';

// SHOWN bounds the search results drawn; DETAILED the tree nodes whose
// inventories, usages, traits, aggregates and allocations are fetched
// (five reads each).
const SHOWN = 50;
const DETAILED = 100;

const searches = {
  name: {label: 'Name', param: 'name', hint: 'compute-1 (the exact name)'},
  uuid: {label: 'UUID', param: 'uuid', hint: 'a provider UUID'},
  trait: {label: 'Trait', param: 'required', hint: 'HW_CPU_X86_AVX2, !CUSTOM_SLOW or in:A,B'},
  aggregate: {label: 'Aggregate', param: 'member_of', hint: 'an aggregate UUID, or in:A,B'},
};

export async function render(root) {
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
      await search(by.value, text.value.trim(), results, tree);
    } catch (e) {
      results.replaceChildren(h('p', {class: 'error'}, e.message));
    }
    document.body.dataset.answered = 'yes';
  });
  const want = new URLSearchParams(location.hash.split('?')[1] || '').get('uuid');
  if (want) {
    by.value = 'uuid';
    text.value = want;
    await search('uuid', want, results, tree);
  }
}

async function search(by, value, results, tree) {
  tree.replaceChildren();
  if (!value) {
    results.replaceChildren(h('p', {class: 'error'}, `Enter a ${searches[by].label.toLowerCase()} to search for.`));
    return;
  }
  const q = new URLSearchParams({[searches[by].param]: value});
  const found = (await get('/resource_providers?' + q)).resource_providers;
  if (found.length === 0) {
    results.replaceChildren(h('p', {}, 'No provider matches.'));
    return;
  }
  const rows = found.slice(0, SHOWN).map((p) => {
    const a = h('a', {href: '#/explorer?uuid=' + p.uuid}, p.name);
    a.addEventListener('click', (ev) => { ev.preventDefault(); drawTree(p.root_provider_uuid, p.uuid, tree); });
    return [a, h('code', {}, p.uuid), p.parent_provider_uuid ? 'child' : 'root'];
  });
  results.replaceChildren(
    h('p', {class: 'muted'}, found.length > SHOWN ? `${fmt(found.length)} match; the first ${SHOWN} are shown.` : `${fmt(found.length)} match.`),
    table(['Name', 'UUID', ''], rows, {id: 'explorer-found'}));
  if (found.length === 1) await drawTree(found[0].root_provider_uuid, found[0].uuid, tree);
}

async function drawTree(rootUUID, focus, tree) {
  tree.replaceChildren(h('p', {class: 'muted'}, 'Loading the tree…'));
  const members = (await get('/resource_providers?in_tree=' + rootUUID)).resource_providers;
  const details = new Map();
  const detailed = members.slice(0, DETAILED);
  for (let i = 0; i < detailed.length; i += 8) {
    await Promise.all(detailed.slice(i, i + 8).map(async (p) => {
      const base = '/resource_providers/' + p.uuid;
      const [inv, use, tr, ag, al] = await Promise.all([get(base + '/inventories'), get(base + '/usages'), get(base + '/traits'),
        get(base + '/aggregates'), get(base + '/allocations')]);
      details.set(p.uuid, {inventories: inv.inventories, usages: use.usages, traits: tr.traits, aggregates: ag.aggregates, allocations: al.allocations});
    }));
  }
  const kids = new Map();
  for (const p of members) {
    const parent = p.parent_provider_uuid || '';
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(p);
  }
  const node = (p) => {
    const d = details.get(p.uuid);
    const body = [h('div', {}, h('span', {class: 'name'}, p.name), ' ', h('code', {class: 'muted'}, p.uuid),
      h('span', {class: 'muted'}, ` generation ${p.generation}`))];
    if (d) {
      const invRows = Object.entries(d.inventories).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rc, inv]) => {
        const capacity = Math.floor((inv.total - inv.reserved) * inv.allocation_ratio);
        const used = d.usages[rc] || 0;
        return h('tr', {dataset: {class: rc}}, h('td', {}, rc), h('td', {class: 'num'}, fmt(used)), h('td', {class: 'num'}, fmt(capacity)),
          h('td', {}, meter(used, capacity)), h('td', {class: 'muted'}, `total ${fmt(inv.total)}, reserved ${fmt(inv.reserved)}, ratio ${inv.allocation_ratio}`));
      });
      if (invRows.length) body.push(table(['Class', 'Used', 'Capacity', '', ''], invRows, {class: 'inventories'}));
      if (d.traits.length) body.push(h('div', {}, 'Traits: ', d.traits.sort().map((t) => h('span', {class: 'tag'}, t))));
      if (d.aggregates.length) body.push(h('div', {}, 'Aggregates: ', d.aggregates.sort().map((a) => h('span', {class: 'tag'}, a))));
      const allocs = Object.entries(d.allocations).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      if (allocs.length) {
        body.push(h('details', {class: 'allocations'}, h('summary', {}, `${fmt(allocs.length)} consumer${allocs.length === 1 ? '' : 's'}`),
          table(['Consumer', 'Resources'], allocs.map(([consumer, a]) => h('tr', {dataset: {consumer}},
            h('td', {}, h('code', {}, consumer)),
            h('td', {}, Object.entries(a.resources).map(([rc, n]) => `${rc}=${fmt(n)}`).join(', ')))))));
      }
    } else {
      body.push(h('div', {class: 'muted'}, `(details of the first ${DETAILED} providers of a tree only)`));
    }
    const children = kids.get(p.uuid) || [];
    return h('li', {class: 'node', dataset: p.uuid === focus ? {uuid: p.uuid, focus: 'yes'} : {uuid: p.uuid}}, body,
      children.length ? h('ul', {class: 'tree'}, children.map(node)) : null);
  };
  const top = members.filter((p) => !p.parent_provider_uuid || !members.some((m) => m.uuid === p.parent_provider_uuid));
  tree.replaceChildren(h('h3', {}, `Tree of ${top.map((p) => p.name).join(', ')} (${fmt(members.length)} providers)`),
    h('ul', {class: 'tree top'}, top.map(node)));
}
