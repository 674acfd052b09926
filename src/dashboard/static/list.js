// Loading the page of images the view asks for, and changing the view (which reloads it).
import { getJson } from './api.js';
import { $, $$ } from './dom.js';
import { nf } from './format.js';
import { fail } from './notices.js';
import { filtered, listQuery, syncUrl, view } from './state.js';
import { renderTable, showCluster } from './table.js';

/** Filter buttons, sort headers, search box and page size as the view says. */
export function syncControls() {
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

/** Fetches and shows the current page. Calls while one is in flight coalesce into one more fetch after it. */
export async function load() {
  if (loading) {
    reloadAgain = true;
    return loading;
  }
  loading = (async () => {
    do {
      reloadAgain = false;
      const seq = ++loadSeq;
      try {
        const page = await getJson(`/api/images?${listQuery()}`);
        if (seq !== loadSeq) continue;
        if (page.total > 0 && page.offset >= page.total) {
          // Past the end (records went away): show the last page instead.
          view.offset = Math.max(0, Math.floor((page.total - 1) / view.limit) * view.limit);
          reloadAgain = true;
          continue;
        }
        view.total = page.total;
        renderTable(page.items);
        showCluster(page.cluster);
        const from = page.total ? page.offset + 1 : 0;
        $('#range').textContent = `${nf.format(from)}–${nf.format(page.offset + page.items.length)} of ${nf.format(page.total)}${filtered() ? ' matching' : ''}`;
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
export function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    void load();
  }, 400);
}

let qTimer = null;
/** Applies a change of view: controls, address bar, then the page. */
export function setView(patch) {
  // The search box is the truth for `q`: a change typed but not yet applied (debounce) goes along.
  clearTimeout(qTimer);
  qTimer = null;
  Object.assign(view, { q: $('#q').value.trim() }, patch);
  syncControls();
  syncUrl();
  void load();
}

/** setView once typing pauses (200 ms). */
export function setViewSoon(patch) {
  clearTimeout(qTimer);
  qTimer = setTimeout(() => setView(patch), 200);
}
