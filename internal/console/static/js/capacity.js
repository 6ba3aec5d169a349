// Capacity: the cloud per resource class, and the fullest and emptiest
// trees, from GET /allot/v1/capacity (the server sums; the page draws).
import {get} from './api.js';
import {h, fmt, meter, table} from './dom.js';

// live: the page is drawn again when the cloud changes.
export const live = true;

export async function render(root, ctx) {
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
  const rows = c.resource_classes.map((rc) => {
    const cells = [rc.resource_class, rc.providers, rc.total, rc.reserved, rc.capacity, rc.used, rc.free];
    const fields = ['resource_class', 'providers', 'total', 'reserved', 'capacity', 'used', 'free'];
    const tr = h('tr', {dataset: {class: rc.resource_class}},
      cells.map((v, i) => h('td', {class: typeof v === 'number' ? 'num' : false, dataset: {field: fields[i], value: v}}, typeof v === 'number' ? fmt(v) : v)),
      h('td', {}, meter(rc.used, rc.capacity), ' ', rc.capacity ? `${Math.round((100 * rc.used) / rc.capacity)}%` : '—'));
    return tr;
  });
  root.append(table(['Resource class', 'Providers', 'Total', 'Reserved', 'Capacity', 'Used', 'Free', 'In use'], rows, {id: 'capacity-classes'}));

  const types = Object.entries(c.consumer_types || {}).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (types.length) {
    root.append(h('h2', {}, 'Usage by consumer type'),
      table(['Consumer type', 'Consumers', 'Usage'], types.map(([name, t]) => h('tr', {dataset: {type: name}},
        h('td', {}, name), h('td', {class: 'num', dataset: {field: 'consumers', value: t.consumers}}, fmt(t.consumers)),
        h('td', {}, Object.entries(t.usages).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rc, n]) =>
          h('span', {class: 'tag', dataset: {class: rc, value: n}}, `${rc} ${fmt(n)}`))))), {id: 'capacity-consumers'}));
  }

  const classes = c.resource_classes.map((rc) => rc.resource_class);
  const pick = h('select', {id: 'capacity-class'}, classes.map((n) => h('option', {value: n}, n)));
  if (classes.includes('VCPU')) pick.value = 'VCPU';
  const trees = h('div', {class: 'cols', id: 'capacity-trees'});
  const draw = () => {
    const rc = pick.value;
    const list = (title, roots, id) => h('div', {id},
      h('h3', {}, title),
      roots.length === 0 ? h('p', {class: 'muted'}, 'none') :
        table(['Tree (root)', 'Used', 'Capacity', 'Free', ''], roots.map((r) => [
          h('a', {href: '#/explorer?uuid=' + r.uuid, title: r.uuid}, r.name), r.used, r.capacity, r.free, meter(r.used, r.capacity)])));
    trees.replaceChildren(
      list(`Fullest trees by ${rc}`, c.fullest_roots[rc] || [], 'capacity-fullest'),
      list(`Emptiest trees by ${rc}`, c.emptiest_roots[rc] || [], 'capacity-emptiest'));
  };
  pick.addEventListener('change', draw);
  draw();
  root.append(h('h2', {}, 'Trees'), h('label', {}, 'Resource class ', pick), trees);
}
