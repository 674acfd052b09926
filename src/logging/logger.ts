import { createRequire } from 'node:module';
import { pino, stdSerializers, type Logger } from 'pino';
import { secretLogPaths } from '../config/index.js';
import { redactSecretsInText } from '../redact.js';

/** What pino's path-based redaction writes in place of a value. */
export const LOG_CENSOR = '[redacted]';

/**
 * Paths pino blanks in every log line: credentials must never reach logs.
 * Keys that hold a credential wherever they appear (see SECRET_KEY) are
 * blanked by the logMethod hook at any depth as well; these paths also cover
 * child-logger bindings and the config's own secrets (config/secrets.ts).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'identityToken',
  '*.identityToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.Authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'auth',
  '*.auth',
  ...secretLogPaths('config'),
];

/** Keys whose value is a credential wherever they appear in a log call (case-insensitive, exact). */
const SECRET_KEY = /^(password|passwd|secret|token|auth|authorization|cookie|identitytoken|identity_token|refresh_token|access_token|id_token)$/i;

const MAX_DEPTH = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** pino's error serialization, with credentials in message and stack masked. */
export function serializeError(e: Error): Record<string, unknown> {
  // stdSerializers.err returns an object with its own prototype: copy it so `scrub` walks it
  const plain: Record<string, unknown> = { ...(stdSerializers.err(e) as unknown as Record<string, unknown>) };
  return scrub(plain, 0) as Record<string, unknown>;
}

/**
 * A copy of a log argument with credentials masked: strings through
 * redactSecretsInText, values of SECRET_KEY keys blanked, Errors serialized
 * (masked). Class instances other than Error (a request, a socket) are left
 * to pino's serializers. Returns the same value when nothing changed.
 */
function scrub(v: unknown, depth: number, seen = new WeakSet<object>()): unknown {
  if (typeof v === 'string') return redactSecretsInText(v);
  if (depth > MAX_DEPTH || typeof v !== 'object' || v === null || seen.has(v)) return v;
  if (v instanceof Error) return serializeError(v);
  seen.add(v);
  if (Array.isArray(v)) {
    const out = v.map((x) => scrub(x, depth + 1, seen));
    return out.some((x, i) => x !== v[i]) ? out : v;
  }
  if (!isPlainObject(v)) return v;
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const y = SECRET_KEY.test(k) && x !== undefined && x !== null && x !== '' ? LOG_CENSOR : scrub(x, depth + 1, seen);
    if (y !== x) (out ??= { ...v })[k] = y;
  }
  return out ?? v;
}

/**
 * Every log call's arguments pass through `scrub`: a message or a field that
 * embeds a URL with `user:pass@`, a signed query or a token is masked
 * (pino's `redact` only sees whole keys). An Error given first is moved
 * under `err`, as pino itself would, so it is serialized masked too.
 */
function logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
  const [first, ...rest] = args;
  if (first instanceof Error) {
    const err = serializeError(first);
    method.apply(this, [{ err }, ...(rest.length ? rest.map((a) => scrub(a, 0)) : [err.message])]);
    return;
  }
  method.apply(this, args.map((a) => scrub(a, 0)));
}

/** `json`: one JSON object a line (pino's own); `pretty`: readable lines for a person at a terminal (pino-pretty). */
export type LogFormat = 'json' | 'pretty';

export function isLogFormat(v: string): v is LogFormat {
  return v === 'json' || v === 'pretty';
}

/** Readable lines when `stream` is a terminal (`npm start`), JSON everywhere else (pipes, files, containers). */
export function defaultLogFormat(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY ? 'pretty' : 'json';
}

/** pino-pretty as a plain stream in this thread (no transport worker), loaded only when asked for. */
function prettyStream(destination: NodeJS.WritableStream | undefined): pino.DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => pino.DestinationStream;
  return pretty({ colorize: destination === undefined && process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', ...(destination ? { destination } : {}) });
}

export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const opts: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: LOG_CENSOR },
    base: { app: 'ferry' },
    serializers: { err: (e: unknown) => (e instanceof Error ? serializeError(e) : scrub(e, 0)) },
    hooks: { logMethod: logMethod as NonNullable<pino.LoggerOptions['hooks']>['logMethod'] },
  };
  const root =
    format === 'pretty' ? pino(opts, prettyStream(destination)) : destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
  // pino serializes child bindings once, past the logMethod hook: mask them on the way in.
  // Children are Object.create(parent), so every descendant inherits this `child`.
  const baseChild = root.child as unknown as (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  root.child = function (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) {
    return baseChild.call(this, scrub(bindings, 0) as pino.Bindings, options);
  } as unknown as Logger['child'];
  return root;
}

export type { Logger };
