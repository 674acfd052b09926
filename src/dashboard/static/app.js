// ferry dashboard: vanilla JS modules, no build step. Talks to /api (JSON) and /api/events (SSE).
// This module only composes the others: it takes the server's lists, reads the view, wires the controls.
import { addImage } from './actions.js';
import { getJson } from './api.js';
import { guardBlockForm } from './dialogs.js';
import { $, $$ } from './dom.js';
import { connectEvents } from './events.js';
import { refreshGc, wireGc } from './gc.js';
import { load, scheduleRefresh, setView, setViewSoon, syncControls } from './list.js';
import { refreshNodes, wireNodes } from './nodes.js';
import { fail } from './notices.js';
import { refreshPods, wirePodsDialog } from './pods.js';
import { initView, orderFor, view } from './state.js';
import { applyStats, refreshStats } from './stats.js';
import { dropRecord, showRecord, tickTimes, updateProgress } from './table.js';

/**
 * Pods come and go without any record changing, so the live stream does not carry usedBy:
 * the page, the GC panel and an open drill-down are refetched this often, and only while
 * the tab is visible (three small GETs per tab at most; each page costs one Redis round trip).
 */
const USAGE_REFRESH_MS = 30_000;

/** GET /api/meta: the states and sorts the server knows (the page keeps no copy). Retried until it answers. */
async function loadMeta() {
  for (let waitMs = 1000; ; waitMs = Math.min(waitMs * 2, 30_000)) {
    try {
      return await getJson('/api/meta');
    } catch (e) {
      fail('Could not load the dashboard', e);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

function wireControls() {
  for (const b of $$('.counter')) b.addEventListener('click', () => setView({ state: b.dataset.state, offset: 0 }));
  for (const b of $$('.sort')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      setView({ sort: key, order: orderFor(key), offset: 0 });
    });
  }
  $('#q').addEventListener('input', () => setViewSoon({ offset: 0 }));
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
  guardBlockForm();
  wirePodsDialog();
  wireGc();
  wireNodes();
}

function refreshUsage() {
  if (document.hidden) return;
  void load();
  void refreshGc();
  void refreshPods();
  void refreshNodes();
}

async function init() {
  const pageSizes = [...$('#limit').options];
  initView(
    await loadMeta(),
    pageSizes.map((o) => Number(o.value)),
    Number(pageSizes.find((o) => o.defaultSelected)?.value ?? pageSizes[0].value),
  );
  syncControls();
  wireControls();
  $('#images').setAttribute('aria-busy', 'true');
  setInterval(tickTimes, 1000);
  void load();
  void refreshStats();
  void refreshGc();
  void refreshNodes();
  setInterval(refreshUsage, USAGE_REFRESH_MS);
  document.addEventListener('visibilitychange', refreshUsage);
  const refetch = () => {
    void load();
    void refreshStats();
    void refreshGc();
    void refreshNodes();
  };
  connectEvents({
    stats: applyStats,
    reconnected: refetch,
    resync: refetch,
    state: ({ record }) => {
      showRecord(record);
      scheduleRefresh();
    },
    progress: updateProgress,
    removed: ({ ref }) => {
      dropRecord(ref);
      scheduleRefresh();
    },
  });
}

void init();
