// Bare metal: the nodes by provision state, power state and maintenance
// with their allocations, the allocations by state with their last_error,
// and a dry run of an allocation request. The page talks to the Bare Metal
// API that allot serves on this origin under /baremetal (the same API as
// on its own listener, with its own policy): the counts come from GET
// /allot/v1/summary (the server counts), the lists are Ironic's own, a
// page at a time.
import {request, APIError, BASE} from './api.js';
import {h, fmt, meter, table} from './dom.js';

// live: the page is drawn again when the cloud changes; what the user
// chose (filters, pages, the dry-run form) is kept in view.
export const live = true;

const BM = BASE + '/baremetal';
const VERSION = '1.79';
// PAGE is how many nodes or allocations a list shows at once.
const PAGE = 50;
// PENDING_MS is how soon the page is drawn again while allocations are
// pending.
const PENDING_MS = 2000;
// VERDICTS is how many of a dry run's node verdicts are listed.
const VERDICTS = 100;
const NODE_FIELDS = 'uuid,name,resource_class,traits,provision_state,power_state,maintenance,maintenance_reason,allocation_uuid';
const ALLOCATION_FIELDS = 'uuid,name,state,node_uuid,resource_class,traits,candidate_nodes,last_error,created_at';

// view is what the user chose, kept across redraws.
const view = {
  filter: {provision_state: '', maintenance: '', resource_class: ''},
  nodeMarkers: [], // the marker of each page before the current one
  allocState: '',
  allocMarkers: [],
  dry: {resource_class: '', traits: '', candidate_nodes: '', name: ''},
  dryAsked: false,
  // notice is what the page's last write did, shown for a while on the
  // redraws it causes.
  notice: {text: '', until: 0},
};

// done notes what a write did and draws the page again.
function done(text, redraw) {
  view.notice = {text, until: Date.now() + 10000};
  redraw();
}

// bm sends one request to the Bare Metal API at VERSION.
function bm(method, path, body) {
  return request(method, BM + path, {'X-OpenStack-Ironic-API-Version': VERSION}, body);
}

// query builds a query string from the members that are set.
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  return q.toString();
}

// shown is how a value of the summary is keyed (unset is "none", empty
// "(empty)"), label how it reads.
const shown = (v) => (v === null ? 'none' : v === '' ? '(empty)' : String(v));
const label = (v) => (v === true ? 'yes' : v === false ? 'no' : shown(v));
const short = (uuid) => (uuid ? uuid.slice(0, 8) : '');
const words = (s) => s.split(/[\s,]+/).filter(Boolean);

export async function render(root, ctx) {
  root.append(h('h2', {}, 'Bare metal'));
  if (view.notice.text && Date.now() < view.notice.until) root.append(h('p', {id: 'bm-notice'}, view.notice.text));
  let perms;
  try {
    perms = await bm('GET', '/allot/v1/permissions');
  } catch (e) {
    if (e instanceof APIError && e.status === 404) {
      root.append(h('p', {id: 'bm-absent'},
        'This allot does not serve the Bare Metal API, so there is nothing to show here: start allot serve with ',
        h('code', {}, '--baremetal-listen'), ' (and the console on) to manage bare-metal nodes from this page.'));
      return;
    }
    if (e instanceof APIError && (e.status === 401 || e.status === 403)) {
      root.append(h('p', {id: 'bm-denied', class: 'error'}, 'The Bare Metal API does not let this token list nodes: ' + e.message));
      return;
    }
    throw e;
  }
  const can = (rule) => perms.rules[rule] === true;
  const redraw = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const summary = await bm('GET', '/allot/v1/summary');
  const nodesBox = h('div', {id: 'bm-nodes-box'});
  const allocBox = h('div', {id: 'bm-allocations-box'});
  root.append(
    h('p', {class: 'muted', id: 'bm-summary'},
      `${fmt(summary.nodes.total)} nodes, ${fmt(summary.nodes.allocated)} with an allocation` +
      (summary.allocations ? `; ${fmt(summary.allocations.total)} allocations.` : '.')),
    countTables(summary, (field, value) => {
      view.filter = {provision_state: '', maintenance: '', resource_class: ''};
      view.filter[field] = value === null ? '' : String(value);
      view.nodeMarkers = [];
      drawNodes(nodesBox, summary, ctx, redraw).catch((e) => ctx.status(e.message, true));
    }),
    h('h2', {}, 'Nodes'), nodesBox,
    h('h2', {}, 'Allocations'), allocBox,
    h('h2', {}, 'Dry run'), dryRun(summary, can, ctx, redraw));
  await Promise.all([drawNodes(nodesBox, summary, ctx, redraw), drawAllocations(allocBox, summary, can, ctx, redraw)]);
  if (view.dryAsked && can('baremetal:allocation:create')) await askDryRun(root.querySelector('#bm-dry-answer'), can, ctx, redraw);
  // The store revision the console polls moves when a node's provider
  // changes, not when an allocation is only asked for or fails: while
  // allocations are pending, the page looks again on its own.
  if (summary.allocations && summary.allocations.state.some((c) => c.value === 'allocating')) {
    setTimeout(() => { if (root.isConnected && document.visibilityState === 'visible') redraw(); }, PENDING_MS);
  }
}

// countTables draws the summary's counts, one table per field; a value is
// a link that filters the node list by it (where Ironic's list can).
function countTables(summary, filter) {
  const n = summary.nodes;
  const part = (title, id, field, counts) => h('div', {},
    h('h3', {}, title),
    table([title, 'Nodes', ''], counts.map((c) => {
      // Ironic's list filters by a value, not by its absence.
      const link = field && c.value !== null;
      const name = link ? h('a', {href: '#/baremetal', dataset: {filter: field}}, label(c.value)) : label(c.value);
      if (link) {
        name.addEventListener('click', (ev) => { ev.preventDefault(); filter(field, c.value); });
      }
      return h('tr', {dataset: {value: shown(c.value), count: c.count}},
        h('td', {}, name), h('td', {class: 'num'}, fmt(c.count)), h('td', {}, meter(c.count, n.total)));
    }), {id}));
  return h('div', {class: 'cols', id: 'bm-counts'},
    part('Provision state', 'bm-provision', 'provision_state', n.provision_state),
    part('Power state', 'bm-power', null, n.power_state),
    part('Maintenance', 'bm-maintenance', 'maintenance', n.maintenance),
    part('Resource class', 'bm-class', 'resource_class', n.resource_class));
}

// drawNodes draws the filter form and one page of GET /v1/nodes.
async function drawNodes(box, summary, ctx, redraw) {
  const f = view.filter;
  const select = (id, text, values, current) => {
    const s = h('select', {id}, h('option', {value: ''}, 'any'), values.map((v) => h('option', {value: v}, v)));
    s.value = current;
    return h('label', {}, text + ' ', s);
  };
  const form = h('form', {id: 'bm-filter'},
    select('bm-f-provision', 'Provision state', summary.nodes.provision_state.map((c) => String(c.value)), f.provision_state), ' ',
    select('bm-f-maintenance', 'Maintenance', ['true', 'false'], f.maintenance), ' ',
    select('bm-f-class', 'Resource class', summary.nodes.resource_class.filter((c) => c.value !== null).map((c) => c.value), f.resource_class), ' ',
    h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    view.filter = {provision_state: form.querySelector('#bm-f-provision').value,
      maintenance: form.querySelector('#bm-f-maintenance').value, resource_class: form.querySelector('#bm-f-class').value};
    view.nodeMarkers = [];
    drawNodes(box, summary, ctx, redraw).catch((e) => ctx.status(e.message, true));
  });
  const marker = view.nodeMarkers[view.nodeMarkers.length - 1] || '';
  const page = await bm('GET', '/v1/nodes?' + query({fields: NODE_FIELDS, limit: PAGE, marker, ...f}));
  const rows = page.nodes.map((n) => h('tr', {dataset: {uuid: n.uuid}},
    h('td', {}, n.name || ''), h('td', {title: n.uuid}, h('code', {}, short(n.uuid))), h('td', {}, n.resource_class || ''),
    h('td', {}, (n.traits || []).map((t) => h('span', {class: 'tag'}, t))),
    h('td', {dataset: {field: 'provision_state'}}, n.provision_state), h('td', {}, n.power_state || 'none'),
    h('td', {dataset: {field: 'maintenance'}, title: n.maintenance_reason || ''}, n.maintenance ? 'yes' : 'no'),
    h('td', {title: n.allocation_uuid || '', dataset: {field: 'allocation'}}, n.allocation_uuid ? h('code', {}, short(n.allocation_uuid)) : '')));
  const pager = pagerOf(view.nodeMarkers, page.nodes, page.next, () => drawNodes(box, summary, ctx, redraw).catch((e) => ctx.status(e.message, true)));
  box.replaceChildren(form,
    rows.length ? table(['Name', 'UUID', 'Resource class', 'Traits', 'Provision state', 'Power', 'Maintenance', 'Allocation'], rows, {id: 'bm-nodes'})
      : h('p', {class: 'muted', id: 'bm-nodes-none'}, 'No node matches.'),
    pager);
}

// pagerOf draws Previous and Next for a list paged by marker; markers is
// the stack of markers of the pages before the current one.
function pagerOf(markers, items, next, draw) {
  const prev = h('button', {type: 'button', disabled: markers.length === 0}, 'Previous');
  const more = h('button', {type: 'button', disabled: !next || items.length === 0}, 'Next');
  prev.addEventListener('click', () => { markers.pop(); draw(); });
  more.addEventListener('click', () => { markers.push(items[items.length - 1].uuid); draw(); });
  return h('p', {class: 'pager'}, prev, ' ', more, h('span', {class: 'muted'}, ` page ${markers.length + 1}, ${PAGE} a page`));
}

// drawAllocations draws the allocations' counts by state and one page of
// the allocations in the chosen state (by default the failed ones, when
// there are).
async function drawAllocations(box, summary, can, ctx, redraw) {
  if (!summary.allocations) {
    box.replaceChildren(h('p', {class: 'muted', id: 'bm-allocations-denied'}, 'Your policy does not let you list allocations (baremetal:allocation:list).'));
    return;
  }
  const states = summary.allocations.state;
  if (states.length === 0) {
    box.replaceChildren(h('p', {class: 'muted', id: 'bm-allocations-none'}, 'There are no allocations.'));
    return;
  }
  const known = states.map((c) => c.value);
  if (!known.includes(view.allocState)) {
    view.allocState = known.includes('error') ? 'error' : known[0];
    view.allocMarkers = [];
  }
  const tabs = h('p', {id: 'bm-alloc-states'}, states.flatMap((c) => {
    const text = `${c.value} (${fmt(c.count)})`;
    const b = h('button', {type: 'button', 'aria-pressed': String(c.value === view.allocState), dataset: {state: c.value, count: c.count}},
      c.value === view.allocState ? h('strong', {}, text) : text);
    b.addEventListener('click', () => {
      view.allocState = c.value;
      view.allocMarkers = [];
      drawAllocations(box, summary, can, ctx, redraw).catch((e) => ctx.status(e.message, true));
    });
    return [b, ' '];
  }));
  const marker = view.allocMarkers[view.allocMarkers.length - 1] || '';
  const page = await bm('GET', '/v1/allocations?' + query({fields: ALLOCATION_FIELDS, limit: PAGE, marker, state: view.allocState}));
  const mayDelete = can('baremetal:allocation:delete');
  const rows = page.allocations.map((a) => h('tr', {dataset: {uuid: a.uuid, state: a.state}},
    h('td', {}, a.name || ''), h('td', {title: a.uuid}, h('code', {}, short(a.uuid))), h('td', {}, a.state),
    h('td', {}, a.resource_class || ''), h('td', {}, (a.traits || []).map((t) => h('span', {class: 'tag'}, t))),
    h('td', {title: a.node_uuid || ''}, a.node_uuid ? h('code', {}, short(a.node_uuid)) : ''),
    h('td', {class: a.last_error ? 'error' : false, dataset: {field: 'last_error'}}, a.last_error || ''),
    mayDelete ? h('td', {}, deleteButton(a, ctx, redraw)) : null));
  const headers = ['Name', 'UUID', 'State', 'Resource class', 'Traits', 'Node', 'Last error'];
  if (mayDelete) headers.push('');
  box.replaceChildren(tabs, table(headers, rows, {id: 'bm-allocations'}),
    pagerOf(view.allocMarkers, page.allocations, page.next, () => drawAllocations(box, summary, can, ctx, redraw).catch((e) => ctx.status(e.message, true))));
}

// deleteButton deletes allocation a on a second click (the first asks).
function deleteButton(a, ctx, redraw) {
  const b = h('button', {type: 'button', class: 'write', dataset: {write: 'baremetal:allocation:delete'}}, 'Delete');
  b.addEventListener('click', async () => {
    if (!b.dataset.armed) {
      b.dataset.armed = 'yes';
      b.textContent = 'Delete: sure?';
      return;
    }
    try {
      await bm('DELETE', '/v1/allocations/' + a.uuid);
      done(`Allocation ${a.name || a.uuid} deleted.`, redraw);
    } catch (e) {
      ctx.status(e.message, true);
    }
  });
  return b;
}

// dryRunBody is the allocation request of the dry-run form.
function dryRunBody() {
  const d = view.dry;
  const body = {resource_class: d.resource_class.trim()};
  if (words(d.traits).length) body.traits = words(d.traits);
  if (words(d.candidate_nodes).length) body.candidate_nodes = words(d.candidate_nodes);
  if (d.name.trim()) body.name = d.name.trim();
  return body;
}

// dryRun is the dry-run form: which node an allocation request would get,
// and why each other node does not fit, without creating it.
function dryRun(summary, can, ctx, redraw) {
  if (!can('baremetal:allocation:create')) {
    return h('p', {class: 'muted', id: 'bm-dry-denied'},
      'Your policy does not let you create allocations (baremetal:allocation:create), which a dry run is checked against.');
  }
  const field = (id, key, text, hint, attrs) => {
    const input = h('input', {type: 'text', id, name: key, value: view.dry[key], ...attrs});
    input.addEventListener('input', () => { view.dry[key] = input.value; });
    return [h('label', {for: id}, text), h('div', {}, input, hint ? h('div', {class: 'hint'}, hint) : null)];
  };
  const classes = summary.nodes.resource_class.filter((c) => c.value !== null);
  const form = h('form', {class: 'grid', id: 'bm-dry'},
    field('bm-dry-class', 'resource_class', 'Resource class', '', {required: true, list: 'bm-dry-classes'}),
    h('datalist', {id: 'bm-dry-classes'}, classes.map((c) => h('option', {value: c.value}))),
    field('bm-dry-traits', 'traits', 'Traits', 'required traits, separated by spaces or commas, e.g. CUSTOM_GPU'),
    field('bm-dry-candidates', 'candidate_nodes', 'Candidate nodes', 'names or UUIDs, separated by spaces or commas; none: every node of the class'),
    field('bm-dry-name', 'name', 'Name', 'the allocation\'s name, if you create it'),
    h('span', {}), h('div', {}, h('button', {type: 'submit'}, 'Dry run')));
  const answer = h('div', {id: 'bm-dry-answer'});
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    view.dryAsked = true;
    askDryRun(answer, can, ctx, redraw).catch((e) => ctx.status(e.message, true));
  });
  return h('div', {}, h('p', {class: 'hint'}, 'Which node an allocation would get, and why the others do not fit; nothing is created.'), form, answer);
}

// askDryRun posts the form's request to POST /allot/v1/allocations/dry-run
// and draws the answer: the pick and every node's verdict.
async function askDryRun(answer, can, ctx, redraw) {
  delete document.body.dataset.answered;
  const body = dryRunBody();
  let d;
  try {
    d = await bm('POST', '/allot/v1/allocations/dry-run', body);
  } catch (e) {
    answer.replaceChildren(h('p', {class: 'error', id: 'bm-dry-error'}, e.message));
    document.body.dataset.answered = 'error';
    return;
  }
  const byUUID = new Map(d.nodes.map((n) => [n.uuid, n]));
  const nameOf = (u) => (byUUID.get(u) && byUUID.get(u).name) || u;
  const fit = d.nodes.filter((n) => n.fits).length;
  const verdict = d.would_pick.length === 0
    ? h('p', {id: 'bm-dry-verdict', class: 'error'}, d.nodes.length === 0
      ? `No node fits: there is no node of resource class ${body.resource_class}${body.candidate_nodes ? ' among the candidates' : ''} that you may see.`
      : `No node fits: none of the ${fmt(d.nodes.length)} nodes considered passes; their reasons are below.`)
    : h('p', {id: 'bm-dry-verdict'}, d.would_pick.length === 1 ? 'It would get node ' : `It would get one of these ${fmt(d.would_pick.length)} nodes, at random: `,
      d.would_pick.slice(0, 10).flatMap((u, i) => [i ? ', ' : '', h('strong', {title: u}, nameOf(u))]), d.would_pick.length > 10 ? ', …' : '',
      ` (${fmt(fit)} of ${fmt(d.nodes.length)} considered fit).`);
  verdict.dataset.pick = d.would_pick.join(' ');
  const shownNodes = [...d.nodes].sort((a, b) => Number(b.fits) - Number(a.fits)).slice(0, VERDICTS);
  const rows = shownNodes.map((n) => h('tr', {dataset: {uuid: n.uuid, fits: String(n.fits)}},
    h('td', {title: n.uuid}, n.name || short(n.uuid)), h('td', {}, n.fits ? 'fits' : 'no'), h('td', {}, n.reasons.join('; '))));
  const parts = [verdict];
  if (rows.length) parts.push(table(['Node', 'Fits', 'Why not'], rows, {id: 'bm-dry-nodes'}));
  if (d.nodes.length > VERDICTS) parts.push(h('p', {class: 'muted'}, `and ${fmt(d.nodes.length - VERDICTS)} more nodes.`));
  if (d.would_pick.length && can('baremetal:allocation:create')) {
    const create = h('button', {type: 'button', class: 'write', id: 'bm-create', dataset: {write: 'baremetal:allocation:create'}}, 'Create this allocation');
    create.addEventListener('click', async () => {
      try {
        const a = await bm('POST', '/v1/allocations', body);
        view.dryAsked = false;
        done(`Allocation ${a.name || a.uuid} created (${a.state}).`, redraw);
      } catch (e) {
        ctx.status(e.message, true);
      }
    });
    parts.push(h('p', {}, create));
  }
  answer.replaceChildren(...parts);
  document.body.dataset.answered = 'yes';
}
