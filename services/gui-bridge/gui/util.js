// Small helpers the pages share: building elements, formatting numbers, times and amounts.

//! el('div', {class: 'x', onclick: fn}, child, 'text', ...): an element; attributes starting with "on" are listeners.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function duration(seconds) {
  if (seconds === undefined || seconds === null || !isFinite(seconds)) return '–';
  seconds = Math.max(0, Math.round(seconds));
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

export function time(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : '–';
}

export function btc(value) {
  return value === undefined || value === null ? '–' : `${Number(value).toFixed(8)} BTC`;
}

export function shortHash(hash) {
  return hash && hash.length > 20 ? `${hash.slice(0, 10)}…${hash.slice(-8)}` : hash;
}

//! A key/value list: rows is [[label, value-or-node, attrs?], ...].
export function kv(rows) {
  return el('dl', {class: 'kv'}, rows.map(([k, v, attrs]) => [el('dt', {}, k), el('dd', attrs || {}, v)]));
}

export function table(headers, rows, label) {
  return el('div', {class: 'table-wrap'},
    el('table', {'aria-label': label},
      el('thead', {}, el('tr', {}, headers.map((h) => typeof h === 'string' ? el('th', {scope: 'col'}, h)
        : el('th', {scope: 'col', class: h.class}, h.text)))),
      el('tbody', {}, rows)));
}

export function errorText(error) {
  return error && error.message ? error.message : String(error);
}
