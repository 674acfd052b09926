// The image table: one row per record, re-rendered in place as records change, keeping
// keyboard focus and opened error details across live updates.
import { block, copyDigest, remove, retry, unblock } from './actions.js';
import { $, $$, el } from './dom.js';
import { ago, copyProgress, countdown, formatBytes, nf, plural, shortDigest, usedByParts } from './format.js';
import { openPods } from './pods.js';
import { filtered } from './state.js';

const COLUMNS = 9;

/** ref -> record currently shown */
const shown = new Map();
/** refs whose error details the user opened (kept open across live re-renders) */
const openErrors = new Set();

function stateCell(r) {
  const td = el('td', { class: 'state' }, el('span', { class: `badge ${r.state}`, text: r.state }));
  if (r.state === 'copying') {
    const { pct, text } = copyProgress(r.bytesDone, r.bytesTotal);
    const bar = el('div', { class: 'progress-bar' });
    bar.style.width = `${pct}%`;
    td.append(
      el('div', { class: 'progress', role: 'progressbar', 'aria-label': `Copy progress of ${r.ref}`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct }, bar),
      el('span', { class: 'progress-text', text }),
    );
  } else if (r.state === 'retrying' && r.nextAttemptAt) {
    td.append(el('span', { class: 'countdown', 'data-until': r.nextAttemptAt, title: new Date(r.nextAttemptAt).toLocaleString(), text: countdown(r.nextAttemptAt) }));
  } else if (r.state === 'blocked' && r.usedBy?.pods > 0) {
    // Admission denies new pods, but pods started before the block keep running it.
    const where = plural(r.usedBy.namespaces.length, 'namespace');
    td.append(el('span', { class: 'flag flag-warn', title: `Blocked, yet ${plural(r.usedBy.pods, 'pod')} in ${where} still run it (started before the block)`, text: `still runs in ${plural(r.usedBy.pods, 'pod')}` }));
  }
  return td;
}

const timeEl = (iso) => el('time', { datetime: iso, title: new Date(iso).toLocaleString(), 'data-ago': iso, text: ago(iso) });

/** Used by: pods and namespaces running it now (a button: the drill-down), else when it last ran; "—" when unknown. */
function usedCell(r) {
  const u = r.usedBy;
  if (!u || (u.pods === 0 && !u.lastSeenAt)) {
    return el('td', { class: 'used' }, el('span', { class: 'none', title: u ? 'No pod has run it while ferry watched the cluster' : null, text: '—' }));
  }
  if (u.pods === 0) return el('td', { class: 'used' }, el('span', { class: 'unused', text: 'unused' }), el('span', { class: 'used-sub' }, 'last ran ', timeEl(u.lastSeenAt)));
  const b = el('button', {
    type: 'button',
    class: 'used-btn',
    'aria-haspopup': 'dialog',
    'aria-label': `Show the ${plural(u.pods, 'pod')} running ${r.ref}`,
    title: `Namespaces: ${u.namespaces.join(', ')}`,
    'data-focus': 'used',
  });
  // Two unbreakable halves: a narrow column wraps at the dot, not inside "2 namespaces".
  const [pods, namespaces] = usedByParts(u);
  b.append(el('span', { class: 'nowrap', text: pods }), ' · ', el('span', { class: 'nowrap', text: namespaces }));
  b.addEventListener('click', () => openPods(r));
  return el('td', { class: 'used' }, b);
}

/** What a row shows of `usedBy`, to tell whether a refetched record needs its row re-rendered. */
const usedKey = (r) => (r.usedBy ? `${r.usedBy.pods}|${r.usedBy.namespaces.join(',')}|${r.usedBy.pods ? '' : r.usedBy.lastSeenAt}` : '');

function errorCell(r) {
  if (!r.lastError) return el('td', { class: 'err' }, el('span', { class: 'none', text: '—' }));
  const details = el(
    'details',
    { open: openErrors.has(r.ref) },
    el('summary', { title: 'Show the full error' }, el('span', { class: 'txt', text: r.lastError.length > 90 ? `${r.lastError.slice(0, 90)}…` : r.lastError })),
    el('div', { class: 'err-full', text: r.lastError }),
  );
  details.addEventListener('toggle', () => (details.open ? openErrors.add(r.ref) : openErrors.delete(r.ref)));
  return el('td', { class: 'err' }, details);
}

/** One digest, copied on click; `which` ("mirror", "upstream") names it when a row shows two. */
function digestButton(digest, which) {
  const name = which ? `${which} digest` : 'digest';
  const b = el('button', { type: 'button', class: 'digest', title: `${which ? `${which}: ` : ''}${digest} (click to copy)`, 'aria-label': `Copy ${name} ${digest}`, 'data-focus': which ? `digest-${which}` : 'digest', text: shortDigest(digest) });
  b.addEventListener('click', () => copyDigest(digest, b));
  return b;
}

const SIGNATURES = {
  verified: { class: 'flag flag-ok', text: 'signed', title: 'Its cosign signature verifies against a key of a verify rule' },
  unverified: { class: 'flag flag-warn', text: 'unverified', title: 'It has a cosign signature, but none verifies against the keys of its verify rule' },
  unsigned: { class: 'flag flag-warn', text: 'unsigned', title: 'A verify rule applies, and the upstream has no cosign signature for it' },
};

/**
 * The digest the mirror serves; with a platform-filtered index pushed under a new digest
 * (copy.platformMode strip), the upstream's too: a pod pinned to either is told apart here.
 * Then what supply-chain checks said: the signature (when a verify rule applies) and the
 * referrers (signatures, SBOMs, attestations) copied along.
 */
function digestCell(r) {
  if (!r.digest) return el('td', { class: 'digests' }, el('span', { class: 'none', text: '—' }));
  const td = el('td', { class: 'digests' });
  if (r.sourceDigest && r.sourceDigest !== r.digest) {
    td.append(
      // Stacked, each under its name: the column is narrow, and a digest is never broken.
      el('span', { class: 'digest-line' }, el('span', { class: 'digest-which', text: 'mirror' }), digestButton(r.digest, 'mirror')),
      el('span', { class: 'digest-line' }, el('span', { class: 'digest-which', text: 'upstream' }), digestButton(r.sourceDigest, 'upstream')),
    );
    td.dataset.filtered = 'true';
    td.title = 'A filtered index: the mirror holds only the configured platforms, under its own digest';
  } else {
    td.append(digestButton(r.digest));
  }
  const sig = SIGNATURES[r.signature];
  const referrers = r.referrers > 0 ? el('span', { class: 'flag', 'data-referrers': r.referrers, title: 'Signatures, SBOMs and attestations copied to the mirror with it', text: plural(r.referrers, 'referrer') }) : null;
  if (sig || referrers) td.append(el('span', { class: 'digest-flags' }, sig ? el('span', { class: sig.class, 'data-signature': r.signature, title: sig.title, text: sig.text }) : null, referrers));
  return td;
}

function actionButton(label, ref, onClick, extraClass = '') {
  return el('button', { type: 'button', class: `btn btn-sm btn-ghost ${extraClass}`, 'aria-label': `${label} ${ref}`, 'data-action': label.toLowerCase(), 'data-focus': label.toLowerCase(), onclick: onClick, text: label });
}

function renderRow(r) {
  const tr = el('tr', { 'data-ref': r.ref, 'data-state': r.state, 'data-updated': r.updatedAt, 'data-used': usedKey(r) });
  const refCell = el(
    'td',
    { class: 'refcell' },
    el('span', { class: 'ref', text: r.ref }),
    el('span', { class: 'mirror-ref', title: 'mirror reference', text: r.mirrorRef }),
    r.state === 'blocked' ? el('span', { class: 'blocked-reason', text: `Blocked: ${r.blockedReason ?? 'no reason given'}` }) : null,
    r.driftedAt ? el('span', { class: 'drifted', title: 'Drift refresh saw the upstream tag move away from the digest the mirror held' }, 'upstream tag moved ', timeEl(r.driftedAt)) : null,
  );
  const attempts = el('td', { class: `attempts${r.attempts >= r.maxAttempts && r.maxAttempts > 0 ? ' high' : ''}` }, el('strong', { text: String(r.attempts) }), ` / ${r.maxAttempts}`);
  const size = el('td', { class: 'size', title: r.bytesTotal ? `${nf.format(r.bytesTotal)} bytes` : null, text: r.bytesTotal ? formatBytes(r.bytesTotal) : '—' });
  const updated = el('td', { class: 'updated' }, timeEl(r.updatedAt));
  const actions = el('div', { class: 'actions' });
  if (r.state === 'error' || r.state === 'retrying') actions.append(actionButton('Retry', r.ref, () => retry(r.ref), 'accent'));
  if (r.state === 'blocked') actions.append(actionButton('Unblock', r.ref, () => unblock(r.ref), 'accent'));
  else actions.append(actionButton('Block', r.ref, () => block(r.ref)));
  actions.append(actionButton('Remove', r.ref, () => remove(r), 'danger'));
  tr.append(refCell, stateCell(r), attempts, usedCell(r), errorCell(r), size, digestCell(r), updated, el('td', {}, actions));
  return tr;
}

/** Swap a row in place, keeping keyboard focus on the same control. */
function replaceRow(old, r) {
  const focusKey = old.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus') : null;
  const next = renderRow(r);
  if (old.dataset.state !== r.state) next.classList.add('flash');
  old.replaceWith(next);
  if (focusKey) (next.querySelector(`[data-focus="${focusKey}"]`) ?? next.querySelector('button'))?.focus();
  return next;
}

function rowOf(ref) {
  return $$('#rows tr[data-ref]').find((tr) => tr.dataset.ref === ref);
}

/** Shows a page of records, keeping the rows (and focus) of records that did not change. */
export function renderTable(items) {
  const tbody = $('#rows');
  const old = new Map($$('tr[data-ref]', tbody).map((tr) => [tr.dataset.ref, tr]));
  const focused = document.activeElement;
  const rows = items.map((r) => {
    const tr = old.get(r.ref);
    if (tr && tr.dataset.updated === r.updatedAt && tr.dataset.state === r.state && tr.dataset.used === usedKey(r)) {
      old.delete(r.ref);
      return tr;
    }
    const next = renderRow(r);
    if (tr && tr.dataset.state !== r.state) next.classList.add('flash');
    return next;
  });
  shown.clear();
  for (const r of items) shown.set(r.ref, r);
  if (rows.length === 0) {
    const msg = filtered() ? 'No images match these filters.' : 'No images yet. Add one above, or deploy a pod: the webhook queues its images.';
    tbody.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: COLUMNS, text: msg })));
  } else {
    // Reorder without detaching rows that keep focus.
    rows.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    });
    while (tbody.children.length > rows.length) tbody.lastElementChild.remove();
  }
  if (focused && !focused.isConnected && document.activeElement === document.body) $('#q').focus({ preventScroll: true });
}

/** A changed record (SSE `state`): its row, if shown, is re-rendered now; the page refetch places it. */
export function showRecord(record) {
  const tr = rowOf(record.ref);
  if (tr) {
    // Events carry no usedBy (it is not part of the record in Redis): keep what the last page said.
    const r = 'usedBy' in record ? record : { ...record, usedBy: shown.get(record.ref)?.usedBy ?? null };
    shown.set(r.ref, r);
    replaceRow(tr, r);
  }
}

const CLUSTER_NOTES = {
  live: null,
  stale: { text: 'stale', why: 'No pod watch is running now: these figures are as of the last one' },
  none: { text: 'no cluster view', why: 'ferry watches no pods (no kubeconfig or in-cluster account, or kubernetes.podInformer is off), so it cannot tell which pods run an image' },
  unknown: { text: 'unavailable', why: 'Redis did not answer in time: usage is not shown this time' },
};

/** What the Used-by figures rest on (`cluster` of the page), said once in the column header rather than on every row. */
export function showCluster(cluster) {
  const note = $('#used-note');
  const n = cluster ? CLUSTER_NOTES[cluster.status] : null;
  note.hidden = !n;
  note.textContent = n ? n.text : '';
  const synced = cluster?.syncedAt ? ` (pods last listed ${new Date(cluster.syncedAt).toLocaleString()})` : '';
  note.title = n ? `${n.why}${synced}` : '';
  $('#images').dataset.cluster = cluster?.status ?? '';
}

/** A removed record (SSE `removed`): its row goes at once. */
export function dropRecord(ref) {
  rowOf(ref)?.remove();
  shown.delete(ref);
}

/** A progress tick (SSE `progress`): the bar and size of a copying row, without re-rendering it. */
export function updateProgress(ev) {
  const r = shown.get(ev.ref);
  if (!r) return;
  r.bytesDone = ev.bytesDone;
  r.bytesTotal = ev.bytesTotal;
  const tr = rowOf(ev.ref);
  if (!tr || r.state !== 'copying') return;
  const { pct, text } = copyProgress(ev.bytesDone, ev.bytesTotal);
  const bar = $('.progress', tr);
  if (bar) {
    bar.setAttribute('aria-valuenow', String(pct));
    $('.progress-bar', bar).style.width = `${pct}%`;
    $('.progress-text', tr).textContent = text;
  } else {
    replaceRow(tr, r);
  }
  const size = $('.size', tr);
  if (size && ev.bytesTotal) size.textContent = formatBytes(ev.bytesTotal);
}

/** Once a second: relative times and retry countdowns move on. */
export function tickTimes() {
  for (const t of $$('time[data-ago]')) t.textContent = ago(t.dataset.ago);
  for (const c of $$('.countdown[data-until]')) c.textContent = countdown(c.dataset.until);
}
