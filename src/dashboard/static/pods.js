// The drill-down of the Used-by column: the pods running one image (GET /api/images/:ref/pods),
// in a dialog. Fetched when it opens, on its Refresh button and on the page's periodic refresh.
import { enc, getJsonResponse } from './api.js';
import { $, $$, el } from './dom.js';
import { nf, plural, shortDigest } from './format.js';

/** Containers asked for at most: the dialog is for looking, GET /api/images/:ref/pods?limit= has the rest. */
const LIMIT = 200;

/** The record the dialog shows (null while closed). */
let current = null;
let seq = 0;

const dialog = () => $('#pods-dialog');

function digestCell(run, record) {
  if (!run.digest) return el('td', {}, el('span', { class: 'none', title: 'not reported by the kubelet yet', text: '—' }));
  // A pod can run another digest than the mirror holds: started before a re-mirror, or pulled from upstream.
  const other = record.digest && run.digest !== record.digest && run.digest !== record.sourceDigest;
  return el(
    'td',
    {},
    el('code', { class: 'digest-text', title: run.digest, text: shortDigest(run.digest) }),
    other ? el('span', { class: 'flag flag-warn', title: `The mirror holds ${record.digest}`, text: 'not the mirrored digest' }) : null,
  );
}

function render(record, runs, total) {
  const body = $('#pods-rows', dialog());
  if (runs.length === 0) {
    body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 5, text: 'No pod runs this image now.' })));
  } else {
    body.replaceChildren(
      ...runs.map((run) =>
        el(
          'tr',
          { 'data-pod': `${run.namespace}/${run.pod}`, 'data-container': run.container },
          el('td', { text: run.namespace }),
          el('td', { class: 'mono', text: run.pod }),
          el('td', { class: 'mono', text: run.container }),
          el('td', {}, run.node ? el('span', { text: run.node }) : el('span', { class: 'none', title: 'not scheduled yet', text: '—' })),
          digestCell(run, record),
        ),
      ),
    );
  }
  const pods = new Set(runs.map((r) => `${r.namespace}/${r.pod}`)).size;
  const namespaces = new Set(runs.map((r) => r.namespace)).size;
  const shown = total > runs.length ? ` — showing ${nf.format(runs.length)} of ${nf.format(total)} containers` : '';
  $('#pods-status', dialog()).textContent = runs.length ? `${plural(pods, 'pod')} in ${plural(namespaces, 'namespace')}${shown}` : '';
}

/** Fetches and shows the pods of the open dialog's image (does nothing while it is closed). */
export async function refreshPods() {
  const record = current;
  if (!record || !dialog().open) return;
  const mine = ++seq;
  $('#pods-dialog').setAttribute('aria-busy', 'true');
  try {
    const { data, res } = await getJsonResponse(`/api/images/${enc(record.ref)}/pods?limit=${LIMIT}`);
    if (mine !== seq || current !== record) return;
    render(record, data, Number(res.headers.get('x-total-count') ?? data.length));
  } catch (e) {
    if (mine !== seq) return;
    const msg = e.status === 404 ? 'ferry no longer knows this image.' : `Could not load its pods: ${e.message}`;
    $('#pods-rows', dialog()).replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 5, text: msg })));
    $('#pods-status', dialog()).textContent = '';
  } finally {
    if (mine === seq) dialog().setAttribute('aria-busy', 'false');
  }
}

/** Opens the drill-down for a row's record. */
export function openPods(record) {
  const d = dialog();
  current = record;
  $('#pods-ref', d).textContent = record.ref;
  $('#pods-status', d).textContent = '';
  $('#pods-rows', d).replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 5, text: 'Loading…' })));
  if (!d.open) d.showModal();
  void refreshPods();
}

/** The dialog's Refresh button, and forgetting the image when it closes. */
export function wirePodsDialog() {
  const d = dialog();
  $('#pods-refresh', d).addEventListener('click', () => void refreshPods());
  d.addEventListener('close', () => {
    const ref = current?.ref;
    current = null;
    seq++;
    // The row may have been re-rendered while the dialog was open: focus goes back to its new button.
    setTimeout(() => {
      if (document.activeElement !== document.body) return;
      $$('#rows tr[data-ref]').find((tr) => tr.dataset.ref === ref)?.querySelector('.used-btn')?.focus();
    });
  });
}
