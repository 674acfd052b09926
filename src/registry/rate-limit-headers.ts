/**
 * What a registry says about its request quota, read from response headers
 * (pure). Two spellings are in use:
 *
 *  - the IETF httpapi `RateLimit` drafts: `RateLimit-Limit: 100`,
 *    `RateLimit-Remaining: 50`, `RateLimit-Reset: 30` (delta-seconds), the
 *    policy as `RateLimit-Policy: 100;w=3600`, or (later drafts) all in one
 *    `RateLimit: limit=100, remaining=50, reset=30` / `"default";r=50;t=30`;
 *  - Docker Hub: `ratelimit-limit: 100;w=21600`, `ratelimit-remaining:
 *    76;w=21600`, no reset (its window rolls: a pull counts for `w` seconds).
 *
 * Some servers send the reset as a Unix time instead of delta-seconds
 * (GitHub's habit); a value past 1e9 is read that way.
 */

export interface QuotaReading {
  /** Requests the registry still allows in the current window. */
  remaining: number;
  /** The window's allowance, when told. */
  limit?: number;
  /** Milliseconds from the reading until the allowance is back, when told. */
  resetMs?: number;
  /** Length of the window (`;w=` seconds), when told. */
  windowMs?: number;
}

type HeaderGet = (name: string) => string | null;

const UNIX_TIME_SECONDS = 1e9;

/** First integer of a header value and its `;w=` parameter: `76;w=21600` -> {value 76, windowMs 21600000}. */
function itemOf(v: string | null): { value: number; windowMs?: number } | undefined {
  if (v === null) return undefined;
  const m = /^\s*(\d+)/.exec(v);
  if (!m) return undefined;
  const w = /;\s*w\s*=\s*(\d+)/i.exec(v);
  return { value: Number(m[1]), ...(w ? { windowMs: Number(w[1]) * 1000 } : {}) };
}

function resetMsOf(seconds: number, now: number): number {
  return seconds > UNIX_TIME_SECONDS ? Math.max(0, seconds * 1000 - now) : seconds * 1000;
}

/** The combined `RateLimit` header of the later drafts (`limit=, remaining=, reset=` or `r=`, `t=`). */
function combined(v: string | null, now: number): QuotaReading | undefined {
  if (v === null) return undefined;
  const num = (re: RegExp) => {
    const m = re.exec(v);
    return m ? Number(m[1]) : undefined;
  };
  const remaining = num(/(?:^|[\s;,])(?:remaining|r)\s*=\s*(\d+)/i);
  if (remaining === undefined) return undefined;
  const limit = num(/(?:^|[\s;,])limit\s*=\s*(\d+)/i);
  const reset = num(/(?:^|[\s;,])(?:reset|t)\s*=\s*(\d+)/i);
  return { remaining, ...(limit !== undefined ? { limit } : {}), ...(reset !== undefined ? { resetMs: resetMsOf(reset, now) } : {}) };
}

/** The quota a response announces, or undefined when it announces none. */
export function readQuota(get: HeaderGet, now = Date.now()): QuotaReading | undefined {
  const remaining = itemOf(get('ratelimit-remaining'));
  if (!remaining) return combined(get('ratelimit'), now);
  const limit = itemOf(get('ratelimit-limit'));
  const policy = itemOf(get('ratelimit-policy'));
  const reset = itemOf(get('ratelimit-reset'));
  const windowMs = remaining.windowMs ?? limit?.windowMs ?? policy?.windowMs;
  const limitValue = limit?.value ?? policy?.value;
  return {
    remaining: remaining.value,
    ...(limitValue !== undefined ? { limit: limitValue } : {}),
    ...(reset ? { resetMs: resetMsOf(reset.value, now) } : {}),
    ...(windowMs !== undefined ? { windowMs } : {}),
  };
}
