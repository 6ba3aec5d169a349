// Small DOM helpers: elements are built from data, never from HTML
// strings, so nothing a provider's name holds can become markup.

// h builds an element: h('td', {class: 'num'}, 'text', child, ...).
// Attributes named on* are refused; a value of false or null leaves the
// attribute out.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) throw new Error('h: use addEventListener, not ' + k);
    if (v === false || v === null || v === undefined) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// fmt writes a number with thousands separators.
export function fmt(n) {
  return Number(n).toLocaleString('en-US');
}

// meter is a used/capacity bar.
export function meter(used, capacity) {
  return h('meter', {min: 0, max: Math.max(capacity, 1), value: Math.min(used, Math.max(capacity, 1)),
    high: Math.max(capacity, 1) * 0.8, optimum: 0, title: `${fmt(used)} of ${fmt(capacity)} used`});
}

// table builds a table from a header row and rows of cells; a number cell
// is right-aligned.
export function table(headers, rows, attrs) {
  const cell = (tag, c) => (c instanceof Node ? h(tag, {}, c) : h(tag, typeof c === 'number' ? {class: 'num'} : {}, typeof c === 'number' ? fmt(c) : c));
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, headers.map((x) => cell('th', x)))),
    h('tbody', {}, rows.map((r) => (r instanceof Node ? r : h('tr', {}, r.map((c) => cell('td', c)))))));
}
