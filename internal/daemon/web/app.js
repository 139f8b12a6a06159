// FeDist web view: renders the snapshots of /api/events and the routes of /api/route.
// Every value from the node reaches the DOM through text nodes (el, text), never as markup.
'use strict';

const $ = (id) => document.getElementById(id);
let snap = null;        // the last snapshot
let names = new Map();  // region ID → name
let routeSeq = 0;       // the newest /api/route request; older answers are dropped

// el builds an element: props sets attributes (class, data-*, title), children are nodes or text.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function text(node, value) { node.textContent = value; }

function label(id) {
  const n = names.get(id);
  return n === undefined ? id : n + ' (' + id + ')';
}

function ms(v) {
  if (v === null || v === undefined) return '–';
  return v < 10 ? v.toFixed(2) : v.toFixed(1);
}

function ago(iso) {
  if (!iso || !snap) return '–';
  const s = Math.max(0, (Date.parse(snap.time) - Date.parse(iso)) / 1000);
  return s < 1 ? 'now' : Math.round(s) + ' s ago';
}

// regionChip shows one region of a path, coloured by its status.
function regionChip(id) {
  const r = snap && snap.regions.find((x) => x.id === id);
  return el('span', { class: 'chip', 'data-status': r ? r.status : 'unknown', title: r ? r.status : 'not in the registry' },
    el('span', { class: 'chip-name' }, names.get(id) ?? '?'), ' ', el('code', {}, id));
}

// pathNodes renders a route's path: regions joined by arrows named by the link kind.
function pathNodes(path, kinds) {
  const out = [];
  path.forEach((id, i) => {
    if (i > 0) out.push(el('span', { class: 'hop', 'data-kind': kinds[i - 1] }, '→', el('small', {}, kinds[i - 1])));
    out.push(regionChip(id));
  });
  return out;
}

function renderHeader() {
  const me = snap.node;
  text($('me'), 'region ' + label(me.region) + ' · node ' + me.server +
    (me.parent ? ' · parent ' + label(me.parent) : ' · the root region'));
  const ready = $('ready');
  ready.dataset.ready = String(me.ready);
  text(ready, me.ready ? 'ready' : 'not ready (' + me.phase + ')');
  ready.title = me.not_ready || 'joined, serving';
  const stale = $('stale');
  const reg = me.registry || {};
  stale.dataset.stale = String(!!reg.stale);
  stale.hidden = !reg.stale;
  stale.title = reg.reason || '';
  text($('updated'), 'updated ' + new Date(snap.time).toLocaleTimeString());
}

// renderTree draws the registry as an indented tree; regions whose parent is unknown are listed
// at the top level.
function renderTree() {
  const byParent = new Map();
  const ids = new Set(snap.regions.map((r) => r.id));
  const counts = {};
  for (const r of snap.regions) {
    const p = r.parent && ids.has(r.parent) ? r.parent : '';
    if (!byParent.has(p)) byParent.set(p, []);
    byParent.get(p).push(r);
    counts[r.status] = (counts[r.status] || 0) + 1;
  }
  const seen = new Set();
  const branch = (parent) => (byParent.get(parent) || []).filter((r) => !seen.has(r.id)).map((r) => {
    seen.add(r.id);
    const kids = branch(r.id);
    const row = el('div', { class: 'row' },
      el('span', { class: 'dot', 'data-status': r.status }),
      el('code', { class: 'id' }, r.id),
      el('span', { class: 'name' }, r.name),
      el('span', { class: 'status', 'data-status': r.status }, r.status),
      r.id === snap.node.region ? el('span', { class: 'me' }, 'this node') : null,
      el('span', { class: 'nodes muted' }, r.nodes.length ? r.nodes.length + (r.nodes.length === 1 ? ' node: ' : ' nodes: ') + r.nodes.join(', ') : 'no nodes'),
      r.reason && r.status !== 'active' ? el('span', { class: 'reason' }, r.reason) : null);
    row.title = (r.reason ? r.reason + '; ' : '') + (r.updated ? 'updated ' + r.updated : '');
    return el('li', { 'data-region': r.id, 'data-status': r.status }, row, kids.length ? el('ul', {}, kids) : null);
  });
  $('tree').replaceChildren(...branch(''));
  text($('region-counts'), snap.regions.length + ' · ' + Object.entries(counts).map(([s, n]) => n + ' ' + s).join(', '));
}

function renderLinks() {
  const rows = snap.links.map((l) => el('tr', { 'data-peer': l.peer, 'data-kind': l.kind, 'data-up': String(l.up) },
    el('td', {}, label(l.peer)),
    el('td', {}, l.kind),
    el('td', {}, el('span', { class: 'badge', 'data-up': String(l.up) }, l.up ? 'up' : 'down')),
    el('td', { class: 'num' }, ms(l.rtt_ms)),
    el('td', { class: 'num' }, ms(l.cost_ms)),
    el('td', { class: 'num' }, l.msgs),
    el('td', { class: 'num' }, l.probes),
    el('td', {}, ago(l.last_answer))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no links yet')));
  $('links').tBodies[0].replaceChildren(...rows);
  const opened = snap.shortcuts_opened.map(label);
  text($('shortcuts'), 'Shortcuts opened: ' + (opened.length ? opened.join(', ') : 'none') +
    ' · accepted from other nodes: ' + snap.shortcuts_accepted);
}

function renderRoutes() {
  const rows = snap.routes.map((r) => el('tr', { 'data-dest': r.dest },
    el('td', {}, label(r.dest)),
    el('td', {}, el('div', { class: 'path' }, pathNodes(r.path, r.kinds))),
    el('td', {}, r.step),
    el('td', { class: 'num' }, ms(r.cost_ms))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no routes yet (links are being measured)')));
  $('routes').tBodies[0].replaceChildren(...rows);
}

// renderReplication shows the node's figures and its demand for other regions' records, by home
// region (a record ID's first four hex digits).
function renderReplication() {
  const r = snap.replication;
  const figs = !r.enabled ? [['replication', 'off on this node']] : [
    ['lookups', r.lookups], ['hits', r.hits + ' (' + (100 * r.hit_ratio).toFixed(1) + ' %)'], ['fresh', r.fresh],
    ['stale', r.stale], ['admitted', r.admitted], ['over budget', r.over_budget], ['holding', r.holding],
    ['asked', r.asked], ['candidates', r.candidates], ['expired', r.expired],
    ['replicas held', r.store.Entries + ' / ' + r.store.MaxEntries],
    ['replica KiB', (r.store.Bytes / 1024).toFixed(1) + ' / ' + (r.store.MaxBytes / 1024).toFixed(0)],
    ['holds of ours elsewhere', r.holds], ['readers', r.readers], ['pushes', r.pushes],
    ['invalidations', r.invalidations], ['push lag p50 ms', ms(r.lag_p50_ms)], ['push lag p99 ms', ms(r.lag_p99_ms)]];
  $('replication').replaceChildren(...figs.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
  const by = new Map();
  for (const d of r.top || []) {
    const home = d.id.slice(0, 4);
    const g = by.get(home) || { records: 0, held: 0, rate: 0 };
    g.records++; g.held += d.held ? 1 : 0; g.rate += d.rate_per_s;
    by.set(home, g);
  }
  const rows = [...by.entries()].sort().map(([home, g]) => el('tr', { 'data-home': home },
    el('td', {}, label(home)), el('td', { class: 'num' }, g.records), el('td', { class: 'num' }, g.held),
    el('td', { class: 'num' }, g.rate.toFixed(2))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no lookups of other regions\' records yet')));
  $('replication-regions').tBodies[0].replaceChildren(...rows);
}

// renderSelects keeps both region lists current without losing the choice.
function renderSelects() {
  const key = snap.regions.map((r) => r.id + '\u0000' + r.name).join('\u0001');
  for (const [sel, fallback] of [[$('route-from'), snap.node.region], [$('route-to'), null]]) {
    if (sel.dataset.key === key) continue;
    const keep = sel.value;
    sel.replaceChildren(...snap.regions.map((r) => el('option', { value: r.id }, r.name + ' (' + r.id + ')')));
    const other = snap.regions.find((r) => r.id !== snap.node.region);
    const want = keep || fallback || (other ? other.id : snap.node.region);
    if (snap.regions.some((r) => r.id === want)) sel.value = want;
    sel.dataset.key = key;
  }
}

async function refreshRoute() {
  const from = $('route-from').value, to = $('route-to').value;
  const out = $('route-path'), info = $('route-info');
  if (!from || !to) return;
  const seq = ++routeSeq;
  let res, body;
  try {
    res = await fetch('/api/route?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to), { cache: 'no-store' });
    body = res.ok ? await res.json() : await res.text();
  } catch (err) {
    body = String(err);
  }
  if (seq !== routeSeq) return;
  if (!res || !res.ok) {
    out.replaceChildren();
    out.dataset.path = '';
    out.dataset.error = 'true';
    text(info, 'No route: ' + String(body).trim());
    return;
  }
  out.dataset.error = 'false';
  out.dataset.path = body.path.join(' ');
  out.replaceChildren(...pathNodes(body.path, body.kinds));
  text(info, body.path.length < 2 ? 'the same region' :
    'cost ' + ms(body.cost_ms) + ' ms · ' + (body.path.length - 1) + ' hop(s) · first step: ' + body.step);
}

function render(s) {
  snap = s;
  names = new Map(s.regions.map((r) => [r.id, r.name]));
  renderHeader();
  renderTree();
  renderLinks();
  renderRoutes();
  renderReplication();
  renderSelects();
  refreshRoute();
}

function setConn(state) {
  const c = $('conn');
  c.dataset.conn = state;
  text(c, state);
}

let lastEvent = 0;
function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => setConn('live'));
  es.addEventListener('snapshot', (ev) => {
    lastEvent = Date.now();
    setConn('live');
    render(JSON.parse(ev.data));
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (e.g. 503: too many streams) or the server went away: try again later.
      setConn('disconnected');
      setTimeout(connect, 5000);
    } else {
      setConn('reconnecting');
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('route-from').addEventListener('change', refreshRoute);
  $('route-to').addEventListener('change', refreshRoute);
  setInterval(() => {
    if (lastEvent && Date.now() - lastEvent > 5000 && $('conn').dataset.conn === 'live') setConn('stale');
  }, 1000);
  connect();
});
