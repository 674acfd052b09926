// Nodes: what each node's `ferry agent` last published (GET /api/nodes): runtime, readiness, the
// startup taint, pre-pull and import counts, and per node (expandable) every pre-pull image and
// imported file with its error code. Agents publish on every change and resync, not through the
// event stream, so the panel is refetched every NODES_REFRESH_MS while the tab is visible.
import { getJson } from './api.js';
import { $, el } from './dom.js';
import { ago, countdown, formatBytes, nf, plural, shortDigest } from './format.js';

/** Where a pre-pull entry comes from, when not the config's agent.prepull. */
const SOURCE_NOTE = { 'in-use': 'from the in-use index', workload: 'named by a workload' };

const NODES_REFRESH_MS = 10_000;
const COLUMNS = 7;

let lastBody = '';
/** The answer shown, to re-render when a node is expanded or collapsed. */
let lastAnswer = null;
/** Nodes the user expanded, kept open across refreshes. */
const open = new Set();

const timeEl = (iso) => el('time', { datetime: iso, title: new Date(iso).toLocaleString(), 'data-ago': iso, text: ago(iso) });

const PREPULL_BADGE = { present: 'mirrored', pulling: 'copying', pending: 'queued', error: 'error' };
const IMPORT_BADGE = { imported: 'mirrored', importing: 'copying', pending: 'queued', error: 'error' };

/** `[FERRY_ERR_X] message` as the code and the message (any other text is all message). */
function splitError(text) {
  const m = /^\[([A-Z0-9_]+)\]\s*(.*)$/s.exec(text ?? '');
  return m ? { code: m[1], message: m[2] } : { code: '', message: text ?? '' };
}

function errorLine(text) {
  if (!text) return null;
  const { code, message } = splitError(text);
  return el('span', { class: 'node-err' }, code ? el('code', { class: 'err-code', text: code }) : null, el('span', { class: 'node-err-msg', text: message }));
}

const none = (title) => el('span', { class: 'none', title, text: '—' });

function taintCell(n) {
  const t = n.taint;
  if (!t) return el('td', {}, none('no agent.startupTaint configured'));
  if (t.error) return el('td', {}, el('span', { class: 'flag flag-bad', title: t.error, text: 'removal failed' }), el('span', { class: 'node-sub mono', text: t.key }));
  if (t.removed) return el('td', {}, el('span', { class: 'flag flag-ok', text: 'removed' }), t.removedAt ? el('span', { class: 'node-sub' }, timeEl(t.removedAt)) : null, el('span', { class: 'node-sub mono', text: t.key }));
  return el('td', {}, el('span', { class: 'flag flag-warn', text: 'tainted' }), el('span', { class: 'node-sub mono', text: t.key }));
}

/** present/total with a bar, and how many failed. */
function prepullCell(n) {
  const list = n.prepull ?? [];
  if (!list.length) return el('td', {}, none('nothing to pre-pull on this node'));
  const present = list.filter((p) => p.status === 'present').length;
  const errors = list.filter((p) => p.status === 'error').length;
  const fill = el('div', { class: `node-bar-fill${errors ? ' has-errors' : ''}` });
  // CSSOM, not a style attribute: the page's CSP (style-src 'self') refuses inline styles.
  fill.style.width = `${Math.round((present / list.length) * 100)}%`;
  return el(
    'td',
    { class: 'node-prepull' },
    el('span', { class: 'node-count', 'data-prepull': `${present}/${list.length}` }, el('strong', { text: nf.format(present) }), ` / ${nf.format(list.length)}`),
    el('div', { class: 'node-bar', role: 'img', 'aria-label': `${present} of ${list.length} images present` }, fill),
    errors ? el('span', { class: 'node-sub bad', text: `${plural(errors, 'error')}` }) : null,
  );
}

function importsCell(n) {
  const list = n.imports ?? [];
  if (!list.length) return el('td', {}, none('no file in the import folder'));
  const imported = list.filter((f) => f.status === 'imported').length;
  const errors = list.filter((f) => f.status === 'error').length;
  return el('td', {}, el('span', { class: 'node-count' }, el('strong', { text: nf.format(imported) }), ` imported`), errors ? el('span', { class: 'node-sub bad', text: plural(errors, 'error') }) : null);
}

function nodeRow(n) {
  const id = `node-detail-${n.node}`;
  const expanded = open.has(n.node);
  const toggle = el('button', { type: 'button', class: 'btn btn-sm btn-ghost accent node-toggle', 'aria-expanded': String(expanded), 'aria-controls': id, text: expanded ? 'Hide' : 'Details' });
  toggle.addEventListener('click', () => {
    if (open.has(n.node)) open.delete(n.node);
    else open.add(n.node);
    if (lastAnswer) render(lastAnswer);
    $(`tr[data-node="${CSS.escape(n.node)}"] .node-toggle`)?.focus();
  });
  const ready = n.ready ? el('span', { class: 'badge mirrored', text: 'ready' }) : el('span', { class: 'badge retrying', text: 'pulling' });
  return el(
    'tr',
    { 'data-node': n.node, class: n.stale ? 'stale' : null },
    el(
      'td',
      {},
      el('span', { class: 'node-name', text: n.node }),
      el('span', { class: 'node-sub' }, `agent ${n.version ?? '?'} · seen `, timeEl(n.seenAt)),
      n.stale ? el('span', { class: 'flag flag-warn node-stale', title: 'its agent missed three resyncs (agent.resyncMs): what is shown is what it last said', text: 'stale' }) : null,
    ),
    el('td', {}, n.runtime ? el('span', { class: 'mono', text: n.runtime }) : none('not reported yet'), n.error ? el('span', { class: 'node-sub' }, errorLine(n.error)) : null),
    el('td', {}, ready),
    taintCell(n),
    prepullCell(n),
    importsCell(n),
    el('td', { class: 'node-actions' }, toggle),
  );
}

function prepullTable(n) {
  const rows = (n.prepull ?? []).map((p) =>
    el(
      'tr',
      { 'data-image': p.image, 'data-status': p.status },
      el('td', {}, el('span', { class: 'ref', text: p.image }), el('span', { class: 'mirror-ref', title: p.ref, text: p.ref }), SOURCE_NOTE[p.source] ? el('span', { class: 'node-sub', text: SOURCE_NOTE[p.source] }) : null),
      el('td', {}, el('span', { class: `badge ${PREPULL_BADGE[p.status] ?? 'queued'}`, text: p.status }), p.attempts ? el('span', { class: 'node-sub', text: plural(p.attempts, 'failed attempt') }) : null),
      el('td', {}, p.digest ? el('code', { class: 'digest-text', title: p.digest, text: shortDigest(p.digest) }) : none('not present yet')),
      el('td', { class: 'size' }, p.bytes ? formatBytes(p.bytes) : '—'),
      el(
        'td',
        {},
        errorLine(p.error) ?? (p.pulledAt ? el('span', { class: 'node-sub' }, 'pulled ', timeEl(p.pulledAt)) : none('')),
        p.status === 'error' && p.retryAt ? el('span', { class: 'countdown', 'data-until': p.retryAt, title: new Date(p.retryAt).toLocaleString(), text: countdown(p.retryAt) }) : null,
      ),
    ),
  );
  return el(
    'div',
    { class: 'node-block' },
    el('h3', { text: 'Pre-pull images' }),
    rows.length
      ? el('table', { class: 'pods node-images' }, el('thead', {}, el('tr', {}, ...['Image → mirror', 'Status', 'Digest', 'Size', 'Last error / pulled'].map((h) => el('th', { scope: 'col', text: h })))), el('tbody', {}, ...rows))
      : el('p', { class: 'muted', text: 'Nothing to pre-pull on this node (agent.prepull, nodeSelector, agent.prepullInUse).' }),
  );
}

function importsTable(n) {
  const rows = (n.imports ?? []).map((f) =>
    el(
      'tr',
      { 'data-file': f.file, 'data-status': f.status },
      el('td', {}, el('span', { class: 'mono', text: f.file }), f.at ? el('span', { class: 'node-sub' }, timeEl(f.at)) : null),
      el('td', {}, el('span', { class: `badge ${IMPORT_BADGE[f.status] ?? 'queued'}`, text: f.status })),
      el('td', { class: 'size' }, formatBytes(f.size), f.bytes !== undefined ? el('span', { class: 'node-sub', text: `${formatBytes(f.bytes)} written` }) : null),
      el('td', {}, f.images?.length ? el('ul', { class: 'node-list' }, ...f.images.map((img) => el('li', { class: 'mono', text: img }))) : f.error ? null : none('no image imported'), errorLine(f.error)),
    ),
  );
  return el(
    'div',
    { class: 'node-block' },
    el('h3', { text: 'Import folder' }),
    rows.length
      ? el('table', { class: 'pods node-imports' }, el('thead', {}, el('tr', {}, ...['File', 'Status', 'Size', 'Images / error'].map((h) => el('th', { scope: 'col', text: h })))), el('tbody', {}, ...rows))
      : el('p', { class: 'muted', text: 'No tarball in agent.importDir.' }),
  );
}

function detailRow(n) {
  return el('tr', { class: 'node-detail', id: `node-detail-${n.node}`, 'data-detail': n.node }, el('td', { colspan: COLUMNS }, el('div', { class: 'node-blocks' }, prepullTable(n), importsTable(n))));
}

function renderSummary(s) {
  const parts = [
    ['nodes', plural(s.nodes, 'node'), ''],
    ['ready', `${nf.format(s.ready)} ready`, s.ready === s.nodes ? 'ok' : ''],
    ['stale', `${nf.format(s.stale)} stale`, s.stale ? 'warn' : ''],
    ['images', `${nf.format(s.images.present)} present · ${nf.format(s.images.pending)} pending · ${nf.format(s.images.error)} failed`, s.images.error ? 'bad' : ''],
    ['imports', `${nf.format(s.imports.imported)} imported · ${nf.format(s.imports.error)} failed`, s.imports.error ? 'bad' : ''],
  ];
  $('#nodes-summary').replaceChildren(...parts.map(([k, text, tone]) => el('span', { class: `chip${tone ? ` chip-${tone}` : ''}`, 'data-summary': k, text })));
}

function render(answer) {
  renderSummary(answer.summary);
  const body = $('#node-rows');
  if (!answer.nodes.length) {
    body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: COLUMNS, text: 'No node agent has reported. Deploy deploy/components/agent (docs/agent.md) to pre-pull images onto nodes.' })));
    return;
  }
  body.replaceChildren(...answer.nodes.flatMap((n) => (open.has(n.node) ? [nodeRow(n), detailRow(n)] : [nodeRow(n)])));
}

/** Fetches the agents' state and shows it; an unchanged answer leaves the panel alone. */
export async function refreshNodes() {
  try {
    const answer = await getJson('/api/nodes');
    const text = JSON.stringify(answer);
    if (text === lastBody) return;
    lastBody = text;
    lastAnswer = answer;
    render(answer);
    $('#nodes').setAttribute('aria-busy', 'false');
  } catch (e) {
    lastBody = '';
    $('#nodes-summary').replaceChildren(el('span', { class: 'chip chip-bad', text: `Could not load the nodes: ${e.message}` }));
  }
}

export function wireNodes() {
  setInterval(() => {
    if (!document.hidden) void refreshNodes();
  }, NODES_REFRESH_MS);
}
