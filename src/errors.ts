/**
 * One registry of error codes (fastify's habit): every error ferry raises on
 * purpose is a FerryError with a stable code and a hint that tells the user
 * what to do next. Codes are `FERRY_ERR_<AREA>_<WHAT>`.
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
