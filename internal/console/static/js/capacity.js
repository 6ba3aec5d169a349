// Capacity: the cloud per resource class, per consumer type and per
// aggregate, and every tree of a class as a heat map with its fullest and
// emptiest trees, from GET /allot/v1/capacity[/aggregates|/roots] (the
// server sums and pages; the page draws).
import {get} from './api.js';
import {h, fmt, meter, table} from './dom.js';

// live: the page is drawn again when the cloud changes.
export const live = true;

// The consumer types always listed (others are listed when they have usage).
const CONSUMER_TYPES = ['INSTANCE', 'MIGRATION', 'BAREMETAL', 'unknown'];

// AGG_PAGE aggregates, and ROOT_PAGE trees under the heat map, at a time.
const AGG_PAGE = 20;
const ROOT_PAGE = 20;

// The reader's place, kept across the live redraws.
const place = {class: '', aggOffset: 0, rootOffset: 0, picked: -1};

export async function render(root) {
  // The aggregates' page is asked for with the totals, not after them.
  const aggPage = aggregatesPage();
  aggPage.catch(() => {}); // awaited below; a failure shows there
  const c = await get('/allot/v1/capacity?roots=10', '');
  root.append(
    h('h2', {}, 'Capacity'),
    h('p', {class: 'muted', id: 'capacity-summary'},
      `${fmt(c.providers)} providers in ${fmt(c.roots)} trees, store revision ${fmt(c.revision)}. ` +
      'Capacity is (total − reserved) × allocation ratio; free never counts an over-committed inventory below zero.'));
  if (c.resource_classes.length === 0) {
    root.append(h('p', {}, 'No provider has inventory yet.'));
    return;
  }
  root.append(table(['Resource class', 'Providers', 'Total', 'Reserved', 'Capacity', 'Used', 'Free', 'In use'],
    c.resource_classes.map((rc) => classRow(rc, {class: rc.resource_class})), {id: 'capacity-classes'}));

  const usage = c.consumer_types || {};
  const types = [...new Set([...CONSUMER_TYPES, ...Object.keys(usage).sort()])];
  root.append(h('h2', {}, 'Usage by consumer type'),
    table(['Consumer type', 'Consumers', 'Usage'], types.map((name) => {
      const t = usage[name] || {consumers: 0, usages: {}};
      return h('tr', {dataset: {type: name}},
        h('td', {}, name), h('td', {class: 'num', dataset: {field: 'consumers', value: t.consumers}}, fmt(t.consumers)),
        h('td', {}, Object.keys(t.usages).length === 0 ? h('span', {class: 'muted'}, 'none') :
          Object.entries(t.usages).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rc, n]) =>
            h('span', {class: 'tag', dataset: {class: rc, value: n}}, `${rc} ${fmt(n)}`))));
    }), {id: 'capacity-consumers'}));

  const aggs = h('div', {id: 'capacity-aggregates'});
  root.append(h('h2', {}, 'Per aggregate'),
    h('p', {class: 'muted'}, 'A provider counts in the aggregates it is in and those of its tree\'s root (as member_of judges a tree).'), aggs);
  await drawAggregates(aggs, aggPage);

  const classes = c.resource_classes.map((rc) => rc.resource_class);
  if (!classes.includes(place.class)) place.class = classes.includes('VCPU') ? 'VCPU' : classes[0];
  const pick = h('select', {id: 'capacity-class'}, classes.map((n) => h('option', {value: n}, n)));
  pick.value = place.class;
  const heat = h('div', {id: 'capacity-heat'});
  const trees = h('div', {class: 'cols', id: 'capacity-trees'});
  const draw = async () => {
    const rc = pick.value;
    const list = (title, roots, id) => h('div', {id},
      h('h3', {}, title),
      roots.length === 0 ? h('p', {class: 'muted'}, 'none') :
        table(['Tree (root)', 'Used', 'Capacity', 'Free', ''], roots.map((r) => [treeLink(r), r.used, r.capacity, r.free, meter(r.used, r.capacity)])));
    trees.replaceChildren(
      list(`Fullest trees by ${rc}`, c.fullest_roots[rc] || [], 'capacity-fullest'),
      list(`Emptiest trees by ${rc}`, c.emptiest_roots[rc] || [], 'capacity-emptiest'));
    await drawHeat(heat, rc);
  };
  pick.addEventListener('change', () => {
    place.class = pick.value;
    place.rootOffset = 0;
    place.picked = -1;
    draw().catch((e) => heat.replaceChildren(h('p', {class: 'error'}, e.message)));
  });
  root.append(h('h2', {}, 'Trees'), h('label', {}, 'Resource class ', pick), heat, trees);
  await draw();
}

// classRow is one class's sums as a table row; every number cell carries
// its field and value (the browser tests read them).
function classRow(rc, data) {
  const fields = ['resource_class', 'providers', 'total', 'reserved', 'capacity', 'used', 'free'];
  return h('tr', {dataset: data},
    fields.map((f) => {
      const v = rc[f];
      return h('td', {class: typeof v === 'number' ? 'num' : false, dataset: {field: f, value: v}}, typeof v === 'number' ? fmt(v) : v);
    }),
    h('td', {}, meter(rc.used, rc.capacity), ' ', rc.capacity ? `${Math.round((100 * rc.used) / rc.capacity)}%` : '—'));
}

function treeLink(r) {
  return h('a', {href: '#/explorer?uuid=' + r.uuid, title: r.uuid}, r.name);
}

// pager draws "Previous" and "Next" for a list of count items shown from
// offset, size at a time; go(offset) shows another page.
function pager(id, offset, size, count, go) {
  if (count <= size) return null;
  const prev = h('button', {type: 'button', class: 'prev'}, 'Previous');
  const next = h('button', {type: 'button', class: 'next'}, 'Next');
  prev.disabled = offset === 0;
  next.disabled = offset + size >= count;
  prev.addEventListener('click', () => go(Math.max(0, offset - size)));
  next.addEventListener('click', () => go(offset + size));
  return h('div', {class: 'pager', id}, prev, ' ', h('span', {class: 'muted'}, `${fmt(offset + 1)}–${fmt(Math.min(offset + size, count))} of ${fmt(count)}`), ' ', next);
}

function aggregatesPage() {
  return get(`/allot/v1/capacity/aggregates?limit=${AGG_PAGE}&offset=${place.aggOffset}`, '');
}

// drawAggregates draws a page of aggregates (the answer pending, or a
// new request): a row per class of each.
async function drawAggregates(box, pending) {
  const page = await (pending || aggregatesPage());
  if (page.count === 0) {
    box.replaceChildren(h('p', {class: 'muted'}, 'No provider is in an aggregate.'));
    return;
  }
  const rows = [];
  for (const a of page.aggregates) {
    const link = h('a', {href: '#/explorer?aggregate=' + a.uuid}, h('code', {}, a.uuid));
    if (a.resource_classes.length === 0) {
      rows.push(h('tr', {dataset: {aggregate: a.uuid}}, h('td', {}, link), h('td', {class: 'num'}, fmt(a.providers)), h('td', {class: 'muted', colspan: 8}, 'no inventory')));
    }
    a.resource_classes.forEach((rc, i) => {
      const tr = classRow(rc, {aggregate: a.uuid, class: rc.resource_class});
      tr.prepend(h('td', {}, i === 0 ? link : ''), h('td', {class: 'num', dataset: {field: 'members', value: a.providers}}, i === 0 ? fmt(a.providers) : ''));
      rows.push(tr);
    });
  }
  box.replaceChildren(
    table(['Aggregate', 'Providers', 'Resource class', 'With it', 'Total', 'Reserved', 'Capacity', 'Used', 'Free', 'In use'], rows, {id: 'capacity-aggregates-table'}),
    pager('capacity-aggregates-pager', place.aggOffset, AGG_PAGE, page.count, (o) => {
      place.aggOffset = o;
      drawAggregates(box);
    }) || '');
}

// WIDTH is the heat map's width in CSS pixels; a cell is a square of
// cellSize(n) pixels, from 24 for a few trees down to 9 for 10,000 (100
// cells a row).
const WIDTH = 900;
function cellSize(n) { return n <= 150 ? 24 : n <= 1500 ? 15 : 9; }

// heatColor maps a share in use (per mille) to a colour: green when
// empty, through yellow, to red when full; purple when over-committed.
function heatColor(pm) {
  if (pm > 1000) return '#7b2d8e';
  const x = pm / 1000;
  const hue = 120 * (1 - x);
  return `hsl(${hue}, 70%, ${50 - 10 * x}%)`;
}

// drawHeat draws every tree of the class as one cell of a canvas, in the
// order of the roots' names, and under it a page of those trees; clicking
// a cell shows its page with the tree marked.
async function drawHeat(box, rc) {
  const page = await get(`/allot/v1/capacity/roots?resource_class=${encodeURIComponent(rc)}&limit=${ROOT_PAGE}&offset=${place.rootOffset}`, '');
  const n = page.used_permille.length;
  const CELL = cellSize(n);
  const cols = Math.min(Math.floor(WIDTH / CELL), Math.max(n, 1));
  const rows = Math.ceil(n / cols);
  const canvas = h('canvas', {id: 'capacity-heatmap', width: cols * CELL, height: Math.max(rows, 1) * CELL, dataset: {cells: n},
    title: 'Each cell is a tree, in the order of its root\'s name: green empty, red full, purple over-committed. Click a cell to list its tree.'});
  const g = canvas.getContext('2d');
  page.used_permille.forEach((pm, i) => {
    g.fillStyle = heatColor(pm);
    g.fillRect((i % cols) * CELL, Math.floor(i / cols) * CELL, CELL - 1, CELL - 1);
  });
  if (place.picked >= 0 && place.picked < n) {
    g.strokeStyle = '#000';
    g.lineWidth = 2;
    g.strokeRect((place.picked % cols) * CELL + 1, Math.floor(place.picked / cols) * CELL + 1, CELL - 3, CELL - 3);
  }
  canvas.addEventListener('click', (ev) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor((ev.clientY - r.top) / CELL) * cols + Math.floor((ev.clientX - r.left) / CELL);
    if (i < 0 || i >= n) return;
    place.picked = i;
    place.rootOffset = i - (i % ROOT_PAGE);
    drawHeat(box, rc);
  });
  const list = table(['#', 'Tree (root)', 'Used', 'Capacity', 'Free', ''], page.roots.map((r, i) => {
    const at = page.offset + i;
    return h('tr', {class: at === place.picked ? 'picked' : false, dataset: {uuid: r.uuid, permille: page.used_permille[at]}},
      h('td', {class: 'num'}, fmt(at + 1)), h('td', {}, treeLink(r)), h('td', {class: 'num'}, fmt(r.used)),
      h('td', {class: 'num'}, fmt(r.capacity)), h('td', {class: 'num'}, fmt(r.free)), h('td', {}, meter(r.used, r.capacity)));
  }), {id: 'capacity-roots'});
  box.replaceChildren(
    h('p', {class: 'muted'}, `${fmt(n)} trees have ${rc}; each cell is one, in the order of its root's name (green: empty, red: full, purple: over-committed). Click a cell to list it.`),
    canvas, list,
    pager('capacity-roots-pager', page.offset, ROOT_PAGE, n, (o) => {
      place.rootOffset = o;
      drawHeat(box, rc);
    }) || '');
}
