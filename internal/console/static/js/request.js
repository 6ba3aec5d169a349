// Request builder: the seed command's options as a form, with allot's
// ranking (strategy and preferences). It shows the candidates of GET
// /allocation_candidates (GET /allot/v1/allocation_candidates when ranked),
// the explanation of GET /allot/v1/allocation_candidates/explain as a
// funnel per group when there are few or none, the equivalent allot
// command and the raw URL.
import {get, call, names, uuid4, BASE, MICROVERSION} from './api.js';
import {h, fmt} from './dom.js';

// fields: the form, in the CLI's terms. kind "lines" takes one value a
// line (a repeatable option), "suffixed" lines of SUFFIX=VALUE; ext marks
// allot's ranking extension, which only /allot/v1/allocation_candidates
// takes.
const fields = [
  {name: 'resources', label: 'Resources', hint: 'VCPU:4,MEMORY_MB:2048', flag: '--resources', param: 'resources'},
  {name: 'required', label: 'Required traits', hint: 'one a line: HW_CPU_X86_AVX2, !COMPUTE_STATUS_DISABLED, in:A,B', flag: '--required', param: 'required', kind: 'lines'},
  {name: 'member_of', label: 'Member of', hint: 'one a line: AGG, in:A,B, !AGG, !in:A,B', flag: '--member-of', param: 'member_of', kind: 'lines'},
  {name: 'in_tree', label: 'In tree', hint: 'a provider UUID', flag: '--in-tree', param: 'in_tree'},
  {name: 'groups', label: 'Granular groups', hint: 'one a line: _A=VCPU:1', flag: '--resources-group', param: 'resources', kind: 'suffixed'},
  {name: 'group_required', label: 'Group traits', hint: 'one a line: _A=HW_NIC_SRIOV', flag: '--required-group', param: 'required', kind: 'suffixed'},
  {name: 'root_required', label: 'Root required', hint: 'one a line: !COMPUTE_STATUS_DISABLED', flag: '--root-required', param: 'root_required', kind: 'lines'},
  {name: 'same_subtree', label: 'Same subtree', hint: 'one a line: _A,_B', flag: '--same-subtree', param: 'same_subtree', kind: 'lines'},
  {name: 'prefer_trait', label: 'Prefer traits', hint: 'one a line: CUSTOM_SSD:2 (TRAIT[:WEIGHT], allot\'s extension)', flag: '--prefer-trait', param: 'prefer_trait', kind: 'lines', ext: true},
  {name: 'prefer_member_of', label: 'Prefer aggregates', hint: 'one a line: AGGREGATE_UUID:-1 (allot\'s extension)', flag: '--prefer-member-of', param: 'prefer_member_of', kind: 'lines', ext: true},
];

// STRATEGIES are the orders of allot's ranking ('' leaves the server's).
const STRATEGIES = ['default', 'pack', 'spread', 'random'];

// FEW is how few candidates make the page ask why.
const FEW = 2;

// PAGE is how many candidates are drawn at a time.
const PAGE = 100;

function lines(v) { return v.split('\n').map((s) => s.trim()).filter(Boolean); }

// shellQuote quotes a value for a POSIX shell when it needs it.
function shellQuote(s) { return /^[A-Za-z0-9_:,.=\/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`; }

// build turns the form into the query (Placement's options: what the
// explanation takes), the ranking (allot's extension, '' when none) and
// the equivalent command; a malformed suffixed line is an error a person
// can act on.
export function build(form) {
  const q = new URLSearchParams();
  const x = new URLSearchParams();
  const args = ['allot', 'placement', 'allocation-candidate', 'list'];
  for (const f of fields) {
    const raw = form.elements[f.name].value;
    const values = f.kind ? lines(raw) : [raw.trim()].filter(Boolean);
    for (const v of values) {
      if (f.ext) {
        x.append(f.param, v);
      } else if (f.kind === 'suffixed') {
        const m = /^([A-Za-z0-9_-]{1,64})=(.+)$/.exec(v);
        if (!m) throw new Error(`${f.label}: "${v}" is not SUFFIX=VALUE (e.g. ${f.hint.replace('one a line: ', '')})`);
        q.append(f.param + m[1], m[2]);
      } else {
        q.append(f.param, v);
      }
      args.push(f.flag, shellQuote(v));
    }
  }
  const policy = form.elements.group_policy.value;
  if (policy) { q.append('group_policy', policy); args.push('--group-policy', policy); }
  const limit = form.elements.limit.value.trim();
  if (limit) { q.append('limit', limit); args.push('--limit', shellQuote(limit)); }
  const strategy = form.elements.strategy.value;
  if (strategy) { x.append('strategy', strategy); args.push('--strategy', strategy); }
  // Colons and commas need no escaping in a query string: keep them
  // readable in the URL shown.
  const readable = (p) => p.toString().replace(/%3A/gi, ':').replace(/%2C/gi, ',');
  return {query: readable(q), ranking: readable(x), command: args.join(' ')};
}

// candidateKey is a candidate's canonical text: provider, class and amount
// of every allocation, sorted (the browser tests compare it with the API).
export function candidateKey(ar) {
  const parts = [];
  for (const [rp, a] of Object.entries(ar.allocations)) {
    for (const [rc, n] of Object.entries(a.resources)) parts.push(`${rp}:${rc}=${n}`);
  }
  return parts.sort().join(' ');
}

export async function render(root, ctx) {
  const form = h('form', {class: 'grid', id: 'request-form'});
  for (const f of fields) {
    form.append(h('label', {for: 'rq-' + f.name}, f.label),
      f.kind ? h('textarea', {id: 'rq-' + f.name, name: f.name, placeholder: f.hint}) :
        h('input', {type: 'text', id: 'rq-' + f.name, name: f.name, placeholder: f.hint}));
  }
  form.append(
    h('label', {for: 'rq-group_policy'}, 'Group policy'),
    h('select', {id: 'rq-group_policy', name: 'group_policy'},
      h('option', {value: ''}, '(none given)'), h('option', {value: 'none'}, 'none'), h('option', {value: 'isolate'}, 'isolate')),
    h('label', {for: 'rq-limit'}, 'Limit'), h('input', {type: 'number', id: 'rq-limit', name: 'limit', min: 1}),
    h('label', {for: 'rq-strategy'}, 'Order'),
    h('select', {id: 'rq-strategy', name: 'strategy'},
      h('option', {value: ''}, '(the server\'s)'), STRATEGIES.map((v) => h('option', {value: v}, v + (v === 'default' ? ' (Placement\'s)' : '')))),
    h('span'), h('div', {}, h('button', {type: 'submit', id: 'rq-submit'}, 'Find candidates')));
  const out = h('div', {id: 'request-result'});
  root.append(h('h2', {}, 'Request builder'),
    h('p', {class: 'muted'}, `The options of allot placement allocation-candidate list, at microversion ${MICROVERSION}.`), form, out);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    delete document.body.dataset.answered;
    out.replaceChildren(h('p', {class: 'muted'}, 'Searching…'));
    try {
      await answer(form, out, ctx);
    } catch (e) {
      out.replaceChildren(h('p', {class: 'error', id: 'request-error'}, e.message));
    }
    document.body.dataset.answered = 'yes';
  });
}

async function answer(form, out, ctx) {
  const {query, ranking, command} = build(form);
  // Ranked: allot's extension of the same query, in the order asked for.
  const url = ranking ? `/allot/v1/allocation_candidates?${query}${query ? '&' : ''}${ranking}` : '/allocation_candidates?' + query;
  const doc = await get(url);
  const ars = doc.allocation_requests;
  const uuids = ars.slice(0, PAGE).flatMap((ar) => Object.keys(ar.allocations));
  const named = await names(uuids);
  const label = (u) => named.get(u) || u;
  const claim = ctx.can('placement:allocations:update');
  const box = (ar, i) => {
    const rows = Object.entries(ar.allocations).map(([rp, a]) =>
      h('li', {}, h('span', {title: rp}, label(rp)), ': ',
        Object.entries(a.resources).map(([rc, n]) => `${rc}=${fmt(n)}`).join(', ')));
    const mappings = ar.mappings ? Object.entries(ar.mappings).map(([g, rps]) => `${g || '(unsuffixed)'} → ${rps.map(label).join(', ')}`).join('; ') : '';
    const el = h('div', {class: 'candidate', dataset: {key: candidateKey(ar)}},
      h('strong', {}, `Candidate ${i + 1}`), h('ul', {}, rows), mappings ? h('div', {class: 'muted'}, 'Groups: ', mappings) : null);
    if (claim) el.append(claimButton(ar, ctx));
    return el;
  };
  // A page of candidates at a time: ten thousand boxes would freeze the tab.
  const list = h('div', {id: 'candidates'});
  const more = h('button', {type: 'button', id: 'candidates-more'});
  const showMore = () => {
    const from = list.childElementCount;
    list.append(...ars.slice(from, from + PAGE).map((ar, i) => box(ar, from + i)));
    const left = ars.length - list.childElementCount;
    more.textContent = `Show ${fmt(Math.min(left, PAGE))} more (${fmt(left)} not shown)`;
    more.hidden = left === 0;
  };
  more.addEventListener('click', showMore);
  showMore();
  out.replaceChildren(
    h('h3', {}, `${fmt(ars.length)} candidate${ars.length === 1 ? '' : 's'}`),
    h('div', {}, 'Command: ', h('pre', {id: 'request-command'}, command)),
    h('div', {}, 'URL: ', h('pre', {id: 'request-url'}, `${location.origin}${BASE}${url}`, '\n', `OpenStack-API-Version: placement ${MICROVERSION}`)),
    list, more);
  if (ars.length <= FEW) out.append(await explanation(query));
}

// explanation draws GET /allot/v1/allocation_candidates/explain: per
// group a funnel (the providers, what each stage removed, what is left),
// the trees each rule removed, and the nearest misses.
async function explanation(query) {
  const ex = await get('/allot/v1/allocation_candidates/explain?' + query);
  const box = h('div', {id: 'explanation'},
    h('h3', {}, 'Why so few'),
    h('p', {}, `${fmt(ex.providers)} providers in ${fmt(ex.trees)} trees; ${fmt(ex.candidates)} candidates from ${fmt(ex.trees_with_candidates)} trees.`));
  for (const g of ex.groups) {
    const rows = [...g.stages, ...(g.tree_stages || []).map((s) => ({...s, tree: true}))].filter((s) => s.removed > 0);
    if (g.not_examined > 0) rows.push({stage: 'not_examined', removed: g.not_examined, examples: []});
    box.append(h('h4', {}, g.suffix ? `Group ${g.suffix}` : 'Unsuffixed group'),
      funnel(g.providers, rows, g.in_candidates, 'providers', {group: g.suffix || '(unsuffixed)'}));
  }
  const trees = (ex.tree_stages || []).filter((s) => s.removed > 0);
  if (trees.length) {
    box.append(h('h4', {}, 'Trees'), funnel(ex.trees, trees, ex.trees_with_candidates, 'trees', {group: '(trees)'}));
  }
  if ((ex.nearest_misses || []).length) {
    box.append(h('h4', {}, 'Nearest misses'), h('ol', {id: 'nearest-misses'}, ex.nearest_misses.map((m) =>
      h('li', {}, h('strong', {}, m.root.name || m.root.uuid), ': ', m.unmet.join('; ')))));
  }
  return box;
}

// funnel draws a count going through stages: a bar per stage as wide as
// what is left after it, with what the stage removed (and examples), down
// to what is left at the end.
function funnel(start, stages, end, unit, data) {
  const bar = (n) => {
    const b = h('span', {class: 'bar'});
    b.style.width = `${start ? Math.max((100 * n) / start, n > 0 ? 1 : 0) : 0}%`;
    return h('span', {class: 'track'}, b);
  };
  let left = start;
  const rows = [h('li', {class: 'start', dataset: {left: start}}, bar(start), h('span', {}, `${fmt(start)} ${unit}`))];
  for (const s of stages) {
    left -= s.removed;
    rows.push(h('li', {dataset: {stage: s.stage, removed: s.removed, left}}, bar(left),
      h('span', {}, `${s.stage.replace(/_/g, ' ')}${s.tree ? ' (its tree)' : ''}: ${fmt(s.removed)} removed, ${fmt(left)} left`,
        (s.examples || []).length ? h('span', {class: 'muted'}, ' (e.g. ' + s.examples.map((e) => e.name || e.uuid).join(', ') + ')') : null)));
  }
  rows.push(h('li', {class: 'end', dataset: {left: end}}, bar(end), h('span', {}, `${fmt(end)} in candidates`)));
  return h('ul', {class: 'funnel', dataset: data}, rows);
}

// claimButton claims the candidate for a new consumer with PUT
// /allocations/{uuid}: shown only when the server says the caller may.
function claimButton(ar, ctx) {
  const b = h('button', {type: 'button', class: 'write', dataset: {write: 'claim'}}, 'Claim for a new consumer');
  b.addEventListener('click', async () => {
    const consumer = uuid4();
    const body = {allocations: ar.allocations, consumer_generation: null,
      project_id: ctx.identity.project_id || ctx.identity.user_id, user_id: ctx.identity.user_id, consumer_type: 'INSTANCE'};
    if (ar.mappings) body.mappings = ar.mappings;
    try {
      await call('PUT', '/allocations/' + consumer, body);
      b.replaceWith(h('span', {class: 'muted'}, `Claimed for consumer ${consumer}.`));
    } catch (e) {
      b.replaceWith(h('span', {class: 'error'}, e.message));
    }
  });
  return b;
}
