// Garbage collection: a card in the overview with the last run (GET /api/gc) and its counts,
// and a dialog with what it removed (or would remove), kept and failed on, and why.
// Refetched with the page's periodic refresh; an unchanged answer leaves both alone.
import { getJson } from './api.js';
import { $, el } from './dom.js';
import { ago, nf, shortDigest } from './format.js';

/** Items listed per group at most: a big run is summed up, GET /api/gc has every item. */
const SHOWN = 100;
let lastBody = '';
/** Groups the user opened in the dialog, kept open across refreshes. */
const openGroups = new Set();

const timeEl = (iso) => el('time', { datetime: iso, title: new Date(iso).toLocaleString(), 'data-ago': iso, text: ago(iso) });

function settingsText(gc) {
  if (!gc.enabled) return 'GC is off (gc.enabled: false): no run is scheduled.';
  const mode = gc.dryRun ? 'dry run: reports what it would remove, deletes nothing' : 'deletes from the mirror';
  return `Runs on "${gc.schedule}" · ${mode} · images no pod used for ${gc.unusedFor} · digests run within ${gc.keepUnusedFor} are kept.`;
}

/** One image of a group: why it was kept or failed, else how long no pod ran it. */
function itemLine(item) {
  let why;
  if (item.reason) why = el('span', { class: 'gc-why', text: item.reason });
  else if (item.unusedSince) why = el('span', { class: 'gc-why' }, 'unused since ', timeEl(item.unusedSince));
  else why = el('span', { class: 'gc-why', text: 'no pod ever ran it' });
  // A superseded digest is an old manifest a re-mirror moved the tag away from: the tag itself stays.
  const superseded = item.kind === 'superseded' && item.digest ? el('span', { class: 'flag', title: item.mirrorRef, text: `old digest ${shortDigest(item.digest)}` }) : null;
  return el('li', { 'data-ref': item.ref, 'data-kind': item.kind ?? 'record' }, el('code', { class: 'gc-ref', text: item.ref }), superseded, why);
}

function group(key, title, items) {
  if (!items?.length) return null;
  const d = el(
    'details',
    { class: `gc-group gc-${key}`, 'data-group': key, open: openGroups.has(key) },
    el('summary', {}, `${title} `, el('span', { class: 'muted', text: `(${nf.format(items.length)})` })),
    el('ul', {}, ...items.slice(0, SHOWN).map(itemLine)),
    items.length > SHOWN ? el('p', { class: 'muted', text: `… and ${nf.format(items.length - SHOWN)} more: GET /api/gc lists them all.` }) : null,
  );
  d.addEventListener('toggle', () => (d.open ? openGroups.add(key) : openGroups.delete(key)));
  return d;
}

const removedLabel = (report) => (report.dryRun ? 'Would remove' : 'Removed');

/** The overview card: when it last ran, how, and the three counts. */
function renderCard(report, gc) {
  const card = $('#gc');
  card.dataset.state = !report ? 'none' : report.skipped ? 'skipped' : report.errors.length ? 'errors' : 'ok';
  card.dataset.dryRun = String(Boolean(report?.dryRun));
  $('#gc-open').disabled = !report;
  const when = $('#gc-when');
  if (!report) {
    when.replaceChildren(gc.enabled ? 'No run yet' : 'No run yet · off (gc.enabled: false)');
  } else {
    const mode = report.skipped ? el('span', { class: 'flag flag-warn', text: 'skipped' }) : el('span', { class: `badge ${report.dryRun ? 'queued' : 'mirrored'}`, text: report.dryRun ? 'dry run' : 'deleted' });
    when.replaceChildren('Last run ', timeEl(report.finishedAt), ' ', mode);
  }
  $('#gc-removed-label').textContent = report ? removedLabel(report).toLowerCase() : 'would remove';
  for (const k of ['removed', 'protected', 'errors']) $(`[data-gc="${k}"]`).textContent = report ? nf.format(report[k].length) : '–';
  $('.gc-n-errors').classList.toggle('bad', Boolean(report?.errors.length));
}

/** The dialog: the settings, the run, why it was skipped, and every group. */
function renderDialog(report, gc) {
  $('#gc-settings').textContent = settingsText(gc);
  if (!report) return $('#gc-body').replaceChildren();
  const took = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  const parts = [
    el(
      'p',
      { class: 'gc-run' },
      `${report.dryRun ? 'Dry run' : 'Run'} finished `,
      timeEl(report.finishedAt),
      Number.isFinite(took) ? ` in ${(took / 1000).toFixed(1)} s` : '',
      ` · unused for ${report.unusedFor}, kept if run within ${report.keepUnusedFor}`,
    ),
    report.skipped ? el('p', { class: 'gc-skipped', text: `Skipped: ${report.skipped}` }) : null,
    report.removed.length + report.protected.length + report.errors.length === 0 && !report.skipped ? el('p', { class: 'muted', text: 'Nothing was unused for long enough.' }) : null,
    group('removed', removedLabel(report), report.removed),
    group('protected', 'Protected', report.protected),
    group('errors', 'Errors', report.errors),
  ];
  // replaceChildren would write a null as the text "null"
  $('#gc-body').replaceChildren(...parts.filter(Boolean));
}

/** Fetches the last GC run and shows it. */
export async function refreshGc() {
  try {
    const answer = await getJson('/api/gc');
    const text = JSON.stringify(answer);
    if (text === lastBody) return;
    lastBody = text;
    renderCard(answer.report, answer.gc);
    renderDialog(answer.report, answer.gc);
  } catch (e) {
    lastBody = '';
    $('#gc-when').textContent = `Could not load the last run: ${e.message}`;
  }
}

export function wireGc() {
  $('#gc-open').addEventListener('click', () => $('#gc-dialog').showModal());
}
