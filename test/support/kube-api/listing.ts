import { StatusError } from './errors.js';
import type { KubeObject } from './store.js';

/** Label and field selectors, and the continue tokens of paged lists. */

const pathValue = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, p) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined), o);

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`) and field selectors on any dotted path. */
export function matcher(labelSelector?: string, fieldSelector?: string): (o: KubeObject) => boolean {
  const terms: Array<(o: KubeObject) => boolean> = [];
  for (const raw of (labelSelector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(!)?([^!=\s]+)\s*(?:(!=|==|=)\s*(.*))?$/.exec(raw);
    if (!m) throw new StatusError(400, 'BadRequest', `unable to parse requirement: ${raw}`);
    const [, not, key, op, val] = m;
    const labels = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
    if (!op) terms.push((o) => (key! in labels(o)) !== Boolean(not));
    else if (op === '!=') terms.push((o) => labels(o)[key!] !== val);
    else terms.push((o) => labels(o)[key!] === val);
  }
  for (const raw of (fieldSelector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(raw);
    if (!m) throw new StatusError(400, 'BadRequest', `invalid field selector: ${raw}`);
    const [, path, op, val] = m;
    const str = (o: KubeObject): string => String(pathValue(o, path!) ?? '');
    terms.push(op === '!=' ? (o) => str(o) !== val : (o) => str(o) === val);
  }
  return (o) => terms.every((t) => t(o));
}

/** Index of the first key greater than `after` in sorted `keys`. */
export function firstAfter(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function encodeContinue(tok: { rv: number; start: string }): string {
  return Buffer.from(JSON.stringify(tok)).toString('base64url');
}

export function decodeContinue(s: string): { rv: number; start: string } {
  try {
    const tok = JSON.parse(Buffer.from(s, 'base64url').toString()) as { rv?: unknown; start?: unknown };
    if (typeof tok.rv === 'number' && typeof tok.start === 'string') return { rv: tok.rv, start: tok.start };
  } catch {
    /* fall through */
  }
  throw new StatusError(400, 'BadRequest', 'continue key is not valid');
}
