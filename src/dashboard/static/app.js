// ferry dashboard: vanilla JS, no build step. Talks to /api (JSON) and /api/events (SSE).
const TOKEN_KEY = 'ferry.dashboard.token';
const STATES = ['copying', 'queued', 'retrying', 'error', 'mirrored', 'blocked'];
const DEFAULT_ORDER = { updatedAt: 'desc', ref: 'asc', state: 'asc' };

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const nf = new Intl.NumberFormat();

/** View state, mirrored in the address bar so a filtered view can be shared and survives reloads. */
const view = (() => {
  const p = new URLSearchParams(location.search);
  const sort = ['updatedAt', 'ref', 'state'].includes(p.get('sort')) ? p.get('sort') : 'updatedAt';
  const order = p.get('order') === 'asc' || p.get('order') === 'desc' ? p.get('order') : DEFAULT_ORDER[sort];
  const limit = [25, 50, 100, 200].includes(Number(p.get('limit'))) ? Number(p.get('limit')) : 50;
  return {
    state: STATES.includes(p.get('state')) ? p.get('state') : '',
    q: p.get('q') ?? '',
    sort,
    order,
    limit,
    offset: Math.max(0, Number(p.get('offset')) || 0),
    total: 0,
  };
})();

/** ref -> record currently shown */
const shown = new Map();
/** refs whose error details the user opened (kept open across live re-renders) */
const openErrors = new Set();

// ---------------------------------------------------------------------------
// formatting

function formatBytes(n) {
  if (!n || n < 0) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

function ago(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.floor(h / 24)}d ago`;
}

function countdown(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  let s = Math.ceil((t - Date.now()) / 1000);
  if (s <= 0) return 'next try any moment';
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const mmss = `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s).padStart(2, '0')}`;
  return `next try in ${mmss}`;
}

function shortDigest(d) {
  const [alg, hex = ''] = d.split(':');
  return `${alg}:${hex.slice(0, 8)}`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

// ---------------------------------------------------------------------------
// toasts, dialogs, token

function toast(title, { hint, bad = false, ms = bad ? 8000 : 3500 } = {}) {
  const box = $('#toasts');
  const t = el('div', { class: `toast${bad ? ' bad' : ''}`, role: bad ? 'alert' : null }, el('strong', { text: title }), hint ? el('span', { class: 'hint', text: hint }) : null);
  box.append(t);
  setTimeout(() => t.remove(), ms);
  while (box.children.length > 4) box.firstElementChild.remove();
}

function showDialog(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
}

async function confirmDialog({ title, body, ok, extra }) {
  const d = $('#confirm-dialog');
  $('#confirm-title', d).textContent = title;
  $('#confirm-body', d).textContent = body;
  $('#confirm-ok', d).textContent = ok;
  $('#confirm-extra-wrap', d).hidden = !extra;
  $('#confirm-extra', d).checked = false;
  if (extra) $('#confirm-extra-label', d).textContent = extra;
  const v = await showDialog(d);
  return { ok: v === 'ok', extra: $('#confirm-extra', d).checked };
}

let tokenPrompt = null;
async function askToken(why) {
  if (tokenPrompt) return tokenPrompt;
  const d = $('#token-dialog');
  $('#token-why', d).textContent = why;
  $('#token-why', d).classList.toggle('why', /refused/i.test(why));
  $('#token-input', d).value = '';
  tokenPrompt = showDialog(d).then((v) => {
    tokenPrompt = null;
    const t = $('#token-input', d).value.trim();
    return v === 'ok' && t ? t : null;
  });
  return tokenPrompt;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
    this.hint = body?.hint;
  }
}

/** fetch + JSON; a 401 asks for the token once (kept in sessionStorage) and repeats the call. */
async function api(method, path, body) {
  for (let round = 0; ; round++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try {
      data = await res.json();
    } catch {
      /* empty or not JSON */
    }
    if (res.status === 401 && round < 3) {
      if (token) sessionStorage.removeItem(TOKEN_KEY);
      const next = await askToken(
        token
          ? 'That token was refused. Enter the dashboard token (dashboard.token) again.'
          : 'This action needs the dashboard token (dashboard.token). It is kept in this browser tab only.',
      );
      if (!next) {
        throw new ApiError(401, { code: data?.code, message: 'Refused: this action needs the dashboard token', hint: 'Retry the action and enter dashboard.token when asked.' });
      }
      sessionStorage.setItem(TOKEN_KEY, next);
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { status: res.status, data };
  }
}

function fail(what, e) {
  const hint = e instanceof ApiError ? [e.hint, e.code].filter(Boolean).join(' · ') : undefined;
  toast(`${what}: ${e.message}`, { bad: true, hint });
}

const enc = (ref) => encodeURIComponent(ref);

// ---------------------------------------------------------------------------
// rows

function stateCell(r) {
  const td = el('td', { class: 'state' }, el('span', { class: `badge ${r.state}`, text: r.state }));
  if (r.state === 'copying') {
    const pct = r.bytesTotal > 0 ? Math.min(100, Math.round((r.bytesDone / r.bytesTotal) * 100)) : 0;
    const bar = el('div', { class: 'progress-bar' });
    bar.style.width = `${pct}%`;
    td.append(
      el('div', { class: 'progress', role: 'progressbar', 'aria-label': `Copy progress of ${r.ref}`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct }, bar),
      el('span', { class: 'progress-text', text: r.bytesTotal > 0 ? `${formatBytes(r.bytesDone)} of ${formatBytes(r.bytesTotal)} · ${pct}%` : 'starting…' }),
    );
  } else if (r.state === 'retrying' && r.nextAttemptAt) {
    td.append(el('span', { class: 'countdown', 'data-until': r.nextAttemptAt, title: new Date(r.nextAttemptAt).toLocaleString(), text: countdown(r.nextAttemptAt) }));
  }
  return td;
}

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

function digestCell(r) {
  if (!r.digest) return el('td', {}, el('span', { class: 'none', text: '—' }));
  const b = el('button', { type: 'button', class: 'digest', title: `${r.digest} (click to copy)`, 'aria-label': `Copy digest ${r.digest}`, 'data-focus': 'digest', text: shortDigest(r.digest) });
  b.addEventListener('click', () => copyText(r.digest, b));
  return el('td', {}, b);
}

async function copyText(text, button) {
  try {
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
    else {
      const ta = el('textarea', { class: 'sr-only', readonly: true });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    button.classList.add('copied');
    toast('Digest copied', { hint: text });
    setTimeout(() => button.classList.remove('copied'), 1500);
  } catch {
    toast('Could not copy the digest', { bad: true, hint: text });
  }
}

function actionButton(label, ref, onClick, extraClass = '') {
  return el('button', { type: 'button', class: `btn btn-sm btn-ghost ${extraClass}`, 'aria-label': `${label} ${ref}`, 'data-action': label.toLowerCase(), 'data-focus': label.toLowerCase(), onclick: onClick, text: label });
}

function renderRow(r) {
  const tr = el('tr', { 'data-ref': r.ref, 'data-state': r.state, 'data-updated': r.updatedAt });
  const refCell = el(
    'td',
    { class: 'refcell' },
    el('span', { class: 'ref', text: r.ref }),
    el('span', { class: 'mirror-ref', title: 'mirror reference', text: r.mirrorRef }),
    r.state === 'blocked' ? el('span', { class: 'blocked-reason', text: `Blocked: ${r.blockedReason ?? 'no reason given'}` }) : null,
  );
  const attempts = el('td', { class: `attempts${r.attempts >= r.maxAttempts && r.maxAttempts > 0 ? ' high' : ''}` }, el('strong', { text: String(r.attempts) }), ` / ${r.maxAttempts}`);
  const size = el('td', { class: 'size', title: r.bytesTotal ? `${nf.format(r.bytesTotal)} bytes` : null, text: r.bytesTotal ? formatBytes(r.bytesTotal) : '—' });
  const updated = el('td', { class: 'updated' }, el('time', { datetime: r.updatedAt, title: new Date(r.updatedAt).toLocaleString(), 'data-ago': r.updatedAt, text: ago(r.updatedAt) }));
  const actions = el('div', { class: 'actions' });
  if (r.state === 'error' || r.state === 'retrying') actions.append(actionButton('Retry', r.ref, () => retry(r.ref), 'accent'));
  if (r.state === 'blocked') actions.append(actionButton('Unblock', r.ref, () => unblock(r.ref), 'accent'));
  else actions.append(actionButton('Block', r.ref, () => block(r.ref)));
  actions.append(actionButton('Remove', r.ref, () => remove(r), 'danger'));
  tr.append(refCell, stateCell(r), attempts, errorCell(r), size, digestCell(r), updated, el('td', {}, actions));
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

function renderTable(items) {
  const tbody = $('#rows');
  const old = new Map($$('tr[data-ref]', tbody).map((tr) => [tr.dataset.ref, tr]));
  const focused = document.activeElement;
  const rows = items.map((r) => {
    const tr = old.get(r.ref);
    if (tr && tr.dataset.updated === r.updatedAt && tr.dataset.state === r.state) {
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
    const msg = view.q || view.state ? 'No images match these filters.' : 'No images yet. Add one above, or deploy a pod: the webhook queues its images.';
    tbody.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 8, text: msg })));
  } else {
    // Reorder without detaching rows that keep focus.
    rows.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    });
    while (tbody.children.length > rows.length) tbody.lastElementChild.remove();
  }
  if (focused && !focused.isConnected && document.activeElement === document.body) $('#q').focus({ preventScroll: true });
}

function updateProgress(ev) {
  const r = shown.get(ev.ref);
  if (!r) return;
  r.bytesDone = ev.bytesDone;
  r.bytesTotal = ev.bytesTotal;
  const tr = rowOf(ev.ref);
  if (!tr || r.state !== 'copying') return;
  const pct = ev.bytesTotal > 0 ? Math.min(100, Math.round((ev.bytesDone / ev.bytesTotal) * 100)) : 0;
  const bar = $('.progress', tr);
  if (bar) {
    bar.setAttribute('aria-valuenow', String(pct));
    $('.progress-bar', bar).style.width = `${pct}%`;
    $('.progress-text', tr).textContent = ev.bytesTotal > 0 ? `${formatBytes(ev.bytesDone)} of ${formatBytes(ev.bytesTotal)} · ${pct}%` : 'starting…';
  } else {
    replaceRow(tr, r);
  }
  const size = $('.size', tr);
  if (size && ev.bytesTotal) size.textContent = formatBytes(ev.bytesTotal);
}

// ---------------------------------------------------------------------------
// list loading

function syncUrl() {
  const p = new URLSearchParams();
  if (view.state) p.set('state', view.state);
  if (view.q) p.set('q', view.q);
  if (view.sort !== 'updatedAt') p.set('sort', view.sort);
  if (view.order !== DEFAULT_ORDER[view.sort]) p.set('order', view.order);
  if (view.limit !== 50) p.set('limit', String(view.limit));
  if (view.offset) p.set('offset', String(view.offset));
  const qs = p.toString();
  history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
}

function syncControls() {
  for (const b of $$('.counter')) b.setAttribute('aria-pressed', String(b.dataset.state === view.state));
  for (const th of $$('th[aria-sort]')) {
    const key = $('.sort', th)?.dataset.sort;
    th.setAttribute('aria-sort', key === view.sort ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none');
  }
  if ($('#q').value !== view.q) $('#q').value = view.q;
  $('#limit').value = String(view.limit);
}

let loadSeq = 0;
let loading = null;
let reloadAgain = false;

async function load() {
  if (loading) {
    reloadAgain = true;
    return loading;
  }
  loading = (async () => {
    do {
      reloadAgain = false;
      const seq = ++loadSeq;
      const p = new URLSearchParams({ sort: view.sort, order: view.order, limit: String(view.limit), offset: String(view.offset) });
      if (view.state) p.set('state', view.state);
      if (view.q) p.set('q', view.q);
      try {
        const res = await fetch(`/api/images?${p}`, { headers: { accept: 'application/json' } });
        const page = await res.json();
        if (!res.ok) throw new ApiError(res.status, page);
        if (seq !== loadSeq) continue;
        if (page.total > 0 && page.offset >= page.total) {
          view.offset = Math.max(0, Math.floor((page.total - 1) / view.limit) * view.limit);
          reloadAgain = true;
          continue;
        }
        view.total = page.total;
        renderTable(page.items);
        const from = page.total ? page.offset + 1 : 0;
        $('#range').textContent = `${nf.format(from)}–${nf.format(page.offset + page.items.length)} of ${nf.format(page.total)}${view.state || view.q ? ' matching' : ''}`;
        $('#prev').disabled = page.offset === 0;
        $('#next').disabled = page.nextOffset === null;
        $('#images').setAttribute('aria-busy', 'false');
      } catch (e) {
        fail('Could not load images', e);
      }
    } while (reloadAgain);
  })().finally(() => (loading = null));
  return loading;
}

let refreshTimer = null;
/** Live changes reorder/filter the page: refetch at most every 400 ms. */
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    void load();
  }, 400);
}

let qTimer = null;
function setView(patch) {
  // The search box is the truth for `q`: a change typed but not yet applied (debounce) goes along.
  clearTimeout(qTimer);
  qTimer = null;
  Object.assign(view, { q: $('#q').value.trim() }, patch);
  syncControls();
  syncUrl();
  void load();
}

// ---------------------------------------------------------------------------
// stats

function applyStats(s) {
  if (!s) return;
  $('[data-count="total"]').textContent = nf.format(s.total ?? 0);
  for (const st of STATES) $(`[data-count="${st}"]`).textContent = nf.format(s.counts?.[st] ?? 0);
  for (const k of ['waiting', 'active', 'delayed', 'failed']) {
    const v = s.queue ? (k === 'waiting' ? s.queue.waiting + (s.queue.prioritized ?? 0) : s.queue[k]) : null;
    $(`[data-job="${k}"]`).textContent = v === null ? '?' : nf.format(v);
  }
  const tp = s.throughput;
  if (tp) {
    $('#tp-value').textContent = `${formatBytes(tp.bytesPerSecond)}/s`;
    const parts = [`${nf.format(tp.imagesLastMinute)} image${tp.imagesLastMinute === 1 ? '' : 's'} copied`, `${formatBytes(tp.bytesLastMinute)} moved`];
    if (tp.failuresLastMinute) parts.push(`${tp.failuresLastMinute} failed attempt${tp.failuresLastMinute === 1 ? '' : 's'}`);
    $('#tp-sub').textContent = parts.join(' · ');
    drawSpark(tp.series ?? []);
  }
}

function drawSpark(series) {
  const svg = $('#spark');
  const w = 120;
  const h = 32;
  const max = Math.max(1, ...series);
  const n = Math.max(2, series.length);
  const pts = series.map((v, i) => [(i / (n - 1)) * w, h - 2 - (v / max) * (h - 6)]);
  if (pts.length < 2) return;
  const line = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`).join(' ');
  $('.spark-line', svg).setAttribute('d', line);
  $('.spark-area', svg).setAttribute('d', `${line} L${w} ${h} L0 ${h} Z`);
}

async function refreshStats() {
  try {
    const res = await fetch('/api/stats');
    if (res.ok) applyStats(await res.json());
  } catch {
    /* the SSE stream brings them anyway */
  }
}

// ---------------------------------------------------------------------------
// live updates

let es = null;
let retryMs = 1000;
function setConn(status, text) {
  const c = $('#conn');
  c.dataset.status = status;
  $('.conn-text', c).textContent = text;
}

function connect() {
  es?.close();
  es = new EventSource('/api/events');
  let hadError = false;
  es.addEventListener('open', () => {
    setConn('live', 'Live');
    retryMs = 1000;
    if (hadError) {
      hadError = false;
      void load();
      void refreshStats();
    }
  });
  es.addEventListener('error', () => {
    hadError = true;
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. the server answered an error): try again ourselves, backing off.
      setConn('offline', 'Offline — reconnecting');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    } else {
      setConn('connecting', 'Reconnecting…');
    }
  });
  es.addEventListener('hello', (e) => applyStats(JSON.parse(e.data).stats));
  es.addEventListener('stats', (e) => applyStats(JSON.parse(e.data)));
  es.addEventListener('resync', () => {
    void load();
    void refreshStats();
  });
  es.addEventListener('state', (e) => {
    const { record } = JSON.parse(e.data);
    const tr = rowOf(record.ref);
    if (tr) {
      shown.set(record.ref, record);
      replaceRow(tr, record);
    }
    scheduleRefresh();
  });
  es.addEventListener('progress', (e) => updateProgress(JSON.parse(e.data)));
  es.addEventListener('removed', (e) => {
    const { ref } = JSON.parse(e.data);
    rowOf(ref)?.remove();
    shown.delete(ref);
    scheduleRefresh();
  });
}

// ---------------------------------------------------------------------------
// actions

async function retry(ref) {
  try {
    await api('POST', `/api/images/${enc(ref)}/retry`);
    toast('Queued again', { hint: ref });
  } catch (e) {
    fail(`Retry of ${ref} failed`, e);
  }
}

async function unblock(ref) {
  try {
    await api('POST', `/api/images/${enc(ref)}/unblock`, {});
    toast('Unblocked and queued', { hint: ref });
  } catch (e) {
    fail(`Unblock of ${ref} failed`, e);
  }
}

async function block(ref) {
  const d = $('#block-dialog');
  $('#block-ref', d).textContent = ref;
  $('#block-reason', d).value = '';
  const v = await showDialog(d);
  const reason = $('#block-reason', d).value.trim();
  if (v !== 'ok' || !reason) return;
  try {
    await api('POST', `/api/images/${enc(ref)}/block`, { reason });
    toast('Blocked', { hint: `${ref}: ${reason}` });
  } catch (e) {
    fail(`Block of ${ref} failed`, e);
  }
}

async function remove(r) {
  const { ok, extra } = await confirmDialog({
    title: 'Remove image?',
    body: `ferry forgets ${r.ref} and drops its pending copy job. A pod that uses it queues it again.`,
    ok: 'Remove',
    extra: r.digest || r.state === 'mirrored' ? `Also delete ${r.mirrorRef} from the mirror registry` : null,
  });
  if (!ok) return;
  try {
    const { data } = await api('DELETE', `/api/images/${enc(r.ref)}${extra ? '?fromMirror=true' : ''}`);
    const mirror = data?.mirror;
    toast('Removed', { hint: mirror ? (mirror.deleted ? `deleted ${mirror.mirrorRef} from the mirror` : 'it was not in the mirror') : r.ref });
  } catch (e) {
    fail(`Remove of ${r.ref} failed`, e);
  }
}

async function addImage(ev) {
  ev.preventDefault();
  const input = $('#add-ref');
  const err = $('#add-error');
  const ref = input.value.trim();
  err.hidden = true;
  input.removeAttribute('aria-invalid');
  if (!ref) {
    input.focus();
    return;
  }
  try {
    const { status, data } = await api('POST', '/api/images', { ref });
    toast(status === 202 ? 'Queued for mirroring' : `Already known (${data.state})`, { hint: data.ref });
    input.value = '';
  } catch (e) {
    err.textContent = e.hint ? `${e.message} — ${e.hint}` : e.message;
    err.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    if (e.status === 401) fail('Not added', e);
  }
}

// ---------------------------------------------------------------------------
// wiring

function tick() {
  for (const t of $$('time[data-ago]')) t.textContent = ago(t.dataset.ago);
  for (const c of $$('.countdown[data-until]')) c.textContent = countdown(c.dataset.until);
}

function init() {
  syncControls();
  for (const b of $$('.counter')) b.addEventListener('click', () => setView({ state: b.dataset.state, offset: 0 }));
  for (const b of $$('.sort')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      const order = view.sort === key ? (view.order === 'asc' ? 'desc' : 'asc') : DEFAULT_ORDER[key];
      setView({ sort: key, order, offset: 0 });
    });
  }
  $('#q').addEventListener('input', () => {
    clearTimeout(qTimer);
    qTimer = setTimeout(() => setView({ offset: 0 }), 200);
  });
  $('#q').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.value) {
      e.target.value = '';
      setView({ q: '', offset: 0 });
    }
  });
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLElement && (e.target.matches('input, textarea, select') || e.target.isContentEditable);
    if (e.key === '/' && !typing && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      $('#q').focus();
    }
  });
  $('#limit').addEventListener('change', (e) => setView({ limit: Number(e.target.value), offset: 0 }));
  $('#prev').addEventListener('click', () => setView({ offset: Math.max(0, view.offset - view.limit) }));
  $('#next').addEventListener('click', () => setView({ offset: view.offset + view.limit }));
  $('#add-form').addEventListener('submit', addImage);
  // Enter in the block reason submits "Block" only with a reason.
  $('#block-form').addEventListener('submit', (e) => {
    if (e.submitter?.value === 'ok' && !$('#block-reason').value.trim()) {
      e.preventDefault();
      $('#block-reason').focus();
    }
  });
  $('#images').setAttribute('aria-busy', 'true');
  setInterval(tick, 1000);
  void load();
  void refreshStats();
  connect();
}

init();
