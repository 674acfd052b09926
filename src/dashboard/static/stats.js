// The overview: counters per state, BullMQ job counts and the throughput meter with its sparkline.
import { getJson } from './api.js';
import { $ } from './dom.js';
import { formatBytes, nf } from './format.js';
import { meta } from './state.js';

/** Shows a `/api/stats` body (also what SSE `hello` and `stats` carry). */
export function applyStats(s) {
  if (!s) return;
  $('[data-count="total"]').textContent = nf.format(s.total ?? 0);
  for (const st of meta.states) {
    const counter = $(`[data-count="${st}"]`);
    if (counter) counter.textContent = nf.format(s.counts?.[st] ?? 0);
  }
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

export async function refreshStats() {
  try {
    applyStats(await getJson('/api/stats'));
  } catch {
    /* the SSE stream brings them anyway */
  }
}
