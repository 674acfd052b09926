/**
 * One registry of error codes (fastify's habit): every error ferry raises on
 * purpose is a FerryError with a stable code and a hint that tells the user
 * what to do next. Codes are `FERRY_ERR_<AREA>_<WHAT>`, and each one is an
 * entry of an area's table made with `defineErrors` (below); src/error-codes.ts
 * lists every table, docs/errors.md documents every code, and
 * test/errors/codes.test.ts keeps the three in step and finds any code
 * written as a string literal elsewhere in src/.
 *
 * This module imports nothing of ferry's but redact.ts, so every folder can
 * define its table here without an import cycle.
 *
 * Messages reach logs, stderr, image records and API answers, so a credential
 * embedded in one (a URL with `user:pass@`, a signed query, a token) is masked
 * when the error is made (redact.ts), whoever wrote the message.
 */
import { redactSecretsInText } from './redact.js';

export interface FerryErrorOptions {
  hint?: string;
  cause?: unknown;
  /** HTTP status when the error reaches an API caller. */
  status?: number;
  /** For registry/copy errors: whether a retry may succeed. */
  transient?: boolean;
  /** Extra machine-readable details (never credentials). */
  details?: Record<string, unknown>;
}

export class FerryError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;
  readonly transient: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, opts: FerryErrorOptions = {}) {
    super(redactSecretsInText(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FerryError';
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : redactSecretsInText(opts.hint);
    this.status = opts.status ?? 500;
    this.transient = opts.transient ?? false;
    this.details = opts.details;
  }

  /** Message plus hint, the form shown to operators in logs and records. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

/** Best-effort one-line description of any thrown value, credentials masked (a library's message may quote a URL). */
export function describeError(e: unknown): string {
  if (e instanceof FerryError) return e.describe();
  return redactSecretsInText(e instanceof Error ? e.message : String(e));
}

/** One entry of an area's error table. */
export interface ErrorSpec {
  /** What the code means: the "meaning" column of docs/errors.md. */
  meaning: string;
  /** What to do: the hint an error of this code carries unless its raiser knows better, and the docs' "what to do" column. */
  hint: string;
  /** HTTP status when the error reaches an API caller (FerryError's 500 when absent). */
  status?: number;
  /** May the same operation succeed when tried again? (false when absent) */
  transient?: boolean;
}

export type ErrorCode<Area extends string, Kind extends string> = `FERRY_ERR_${Area}_${Kind}`;

/** One code of a table, flattened: what docs/errors.md and the registry test read. */
export interface DefinedError extends ErrorSpec {
  code: string;
  area: string;
  kind: string;
}

export interface ErrorTable<Area extends string, Kind extends string> {
  readonly area: Area;
  readonly specs: Readonly<Record<Kind, ErrorSpec>>;
  /** kind -> its full code, e.g. `codes.UNAUTHORIZED === 'FERRY_ERR_REGISTRY_UNAUTHORIZED'`. */
  readonly codes: { readonly [K in Kind]: ErrorCode<Area, K> };
  /** Every code of the table, in table order. */
  readonly list: readonly DefinedError[];
  code<K extends Kind>(kind: K): ErrorCode<Area, K>;
  /** The kind of one of this table's codes (undefined for any other string). */
  kindOf(code: string): Kind | undefined;
  /** A FerryError of `kind` with the table's hint, status and transient flag, each unless `opts` gives its own. */
  create(kind: Kind, message: string, opts?: FerryErrorOptions): FerryError;
  /** Is `e` a FerryError with one of this table's codes (with this kind's, when given)? */
  is(e: unknown, kind?: Kind): e is FerryError;
}

/**
 * An area's error table: `defineErrors('REGISTRY', { TIMEOUT: { status: 504,
 * transient: true, meaning, hint } })` gives `codes.TIMEOUT ===
 * 'FERRY_ERR_REGISTRY_TIMEOUT'` (typed as that literal) and
 * `create('TIMEOUT', message)`. Kinds are UPPER_SNAKE and the area one word,
 * so a code reads back unambiguously as area + kind.
 */
export function defineErrors<const Area extends string, Kind extends string>(area: Area, specs: Record<Kind, ErrorSpec>): ErrorTable<Area, Kind> {
  const kinds = Object.keys(specs) as Kind[];
  const code = <K extends Kind>(kind: K): ErrorCode<Area, K> => `FERRY_ERR_${area}_${kind}`;
  const codes = Object.freeze(Object.fromEntries(kinds.map((k) => [k, code(k)]))) as ErrorTable<Area, Kind>['codes'];
  const byCode = new Map<string, Kind>(kinds.map((k) => [code(k), k]));
  const list = Object.freeze(kinds.map((k): DefinedError => ({ code: code(k), area, kind: k, ...specs[k] })));
  return {
    area,
    specs,
    codes,
    list,
    code,
    kindOf: (c) => byCode.get(c),
    create(kind, message, opts = {}) {
      const spec = specs[kind];
      return new FerryError(code(kind), message, {
        ...opts,
        hint: opts.hint ?? spec.hint,
        status: opts.status ?? spec.status,
        transient: opts.transient ?? spec.transient,
      });
    },
    is: (e, kind): e is FerryError => isFerryError(e) && (kind === undefined ? byCode.has(e.code) : e.code === code(kind)),
  };
}
