// How numbers, sizes and times read on the page. No DOM.

export const nf = new Intl.NumberFormat();

export function formatBytes(n) {
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

export function ago(iso) {
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

export function countdown(iso) {
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

export function shortDigest(d) {
  const [alg, hex = ''] = d.split(':');
  return `${alg}:${hex.slice(0, 8)}`;
}

/** A copy's progress as a whole percentage and the line under its bar. */
export function copyProgress(bytesDone, bytesTotal) {
  const pct = bytesTotal > 0 ? Math.min(100, Math.round((bytesDone / bytesTotal) * 100)) : 0;
  const text = bytesTotal > 0 ? `${formatBytes(bytesDone)} of ${formatBytes(bytesTotal)} · ${pct}%` : 'starting…';
  return { pct, text };
}

/** "1 pod" / "3 pods". */
export function plural(n, one, many = `${one}s`) {
  return `${nf.format(n)} ${n === 1 ? one : many}`;
}

/** The Used-by column's words for pods that run an image now, e.g. ["3 pods", "2 namespaces"] (shown "3 pods · 2 namespaces"). */
export function usedByParts(u) {
  return [plural(u.pods, 'pod'), plural(u.namespaces.length, 'namespace')];
}
