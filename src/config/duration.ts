/**
 * Go-style durations (`720h`, `1h30m`, `45s`, `500ms`, plus `d` for days):
 * how `gc.unusedFor` and `gc.keepUnusedFor` are written, as in the SPEC.
 * The schema's pattern accepts exactly what parseDuration reads.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/y;

/** Milliseconds in `text`; throws on anything the config schema would refuse. */
export function parseDuration(text: string): number {
  let ms = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) throw new Error(`"${text}" is not a duration (write e.g. 720h, 1h30m, 45s, 7d)`);
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  if (text.length === 0) throw new Error('a duration cannot be empty');
  return Math.round(ms);
}

/** `ms` as the largest whole units, for messages (`30d`, `36h`, `90s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
