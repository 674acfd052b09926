/**
 * The one table of registry errors. Every failure the copy engine raises is a
 * FerryError with a `FERRY_ERR_REGISTRY_<WHAT>` code, a `transient` flag (may a
 * retry succeed?), the registry host and repository in its message and
 * details, and a hint saying what to do. Credentials and tokens never appear.
 *
 * Transient: connection refused/reset/dropped, timeouts, 5xx, 429 (with
 * `details.retryAfterMs` from `Retry-After`), digest/size mismatch of a
 * downloaded blob, caller abort. Permanent: unknown manifest/repository/blob,
 * 401/403 after authenticating, invalid manifest, unsupported media type,
 * delete disabled, bad reference, no matching platform, TLS failures, and
 * what ferry refuses from an untrusted upstream before sending anything:
 * unsafe targets (outbound.ts), invalid digests or names (paths.ts),
 * manifests over ferry's limits (manifest.ts).
 */
import { defineErrors, FerryError } from '../errors.js';

/** THE table: code -> transient?, API status, what it means, what to do (`<host>` is filled in by registryError). */
const REGISTRY = defineErrors('REGISTRY', {
  UNREACHABLE: {
    transient: true,
    status: 502,
    meaning: 'the registry could not be reached: connection refused, name not resolved, no route',
    hint: 'check that the registry is running and reachable from ferry (endpoint, DNS, firewall); ferry retries',
  },
  CONNECTION: { transient: true, status: 502, meaning: 'the connection dropped in the middle of a request', hint: 'the connection dropped mid-request; ferry retries' },
  TIMEOUT: {
    transient: true,
    status: 504,
    meaning: 'no response, or no progress on a body, within copy.timeoutMs',
    hint: 'the registry did not answer within copy.timeoutMs; raise it for slow registries; ferry retries',
  },
  SERVER: { transient: true, status: 502, meaning: 'the registry answered with a 5xx server error', hint: 'the registry answered with a server error; ferry retries' },
  RATE_LIMITED: {
    transient: true,
    status: 429,
    meaning: 'the registry answered 429 Too Many Requests (or TOOMANYREQUESTS)',
    hint: 'the registry rate-limited ferry (429); ferry backs off and retries after Retry-After; to stay under the limit set registries.<host>.requestsPerSecond, or authenticate for a higher quota',
  },
  PULL_LIMIT: {
    transient: true,
    status: 429,
    meaning: "the registry's pull allowance is used up (Docker Hub counts manifest GETs: 100 per 6 h anonymous, 200 authenticated), by its ratelimit headers or by ferry's own count; nothing was sent",
    hint: '<host> pull limit reached; authenticate (registries.<host> credentials) or wait until <time>; ferry retries then (registries.<host>.pullLimit sets the budget ferry keeps)',
  },
  DIGEST_MISMATCH: {
    transient: true,
    status: 502,
    meaning: 'downloaded bytes did not hash to the digest they were asked for',
    hint: 'downloaded bytes did not match their digest (corruption in transit or a misbehaving proxy); nothing was committed; ferry retries',
  },
  SIZE_MISMATCH: {
    transient: true,
    status: 502,
    meaning: 'a blob body was shorter or longer than its descriptor says',
    hint: 'the blob body was truncated or longer than its descriptor; nothing was committed; ferry retries',
  },
  ABORTED: { transient: true, status: 503, meaning: 'the copy was cancelled before it finished', hint: 'the copy was cancelled (shutdown or caller abort); it can be run again' },
  UNAUTHORIZED: {
    transient: false,
    status: 401,
    meaning: 'the registry refused ferry (401), with the credentials configured or without any',
    hint: 'set registries.<host>.username/password or registries.<host>.credentialsFile (docker config.json) with valid credentials',
  },
  DENIED: {
    transient: false,
    status: 403,
    meaning: 'the registry accepted the credentials but denied the operation (403, DENIED)',
    hint: 'the credentials are valid but lack permission for this repository (pull on the source, push on the mirror)',
  },
  MANIFEST_UNKNOWN: { transient: false, status: 404, meaning: 'the tag or digest does not exist in the repository', hint: 'the tag or digest does not exist in that repository; check the reference' },
  NAME_UNKNOWN: {
    transient: false,
    status: 404,
    meaning: 'the repository does not exist, or the credentials cannot see it',
    hint: 'the repository does not exist (or is private and the credentials cannot see it); check the reference',
  },
  BLOB_UNKNOWN: { transient: false, status: 404, meaning: 'a blob a manifest references is missing from the registry', hint: 'the registry lost a blob its manifest references; the source image is broken' },
  MANIFEST_INVALID: {
    transient: false,
    status: 422,
    meaning: 'a manifest the registry refused, or a malformed list or descriptor in a source manifest',
    hint: 'the manifest is invalid: the registry refused it (invalid, or references blobs/manifests it does not have), or ferry found a malformed list or descriptor in the source manifest',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    transient: false,
    status: 415,
    meaning: 'a manifest type ferry does not copy (Docker schema1, unknown media types)',
    hint: 'ferry copies Docker schema2 manifests/lists and OCI manifests/indexes only; schema1 images must be rebuilt',
  },
  DELETE_DISABLED: {
    transient: false,
    status: 405,
    meaning: 'the mirror refuses manifest deletes (405, or UNSUPPORTED on DELETE)',
    hint: 'enable deletes on the mirror registry (storage.delete.enabled: true)',
  },
  NO_MATCHING_PLATFORM: {
    transient: false,
    status: 422,
    meaning: 'an image index has no child for any of copy.platforms',
    hint: 'the image index has no child for copy.platforms; copy with --all or adjust copy.platforms',
  },
  BAD_REFERENCE: { transient: false, status: 400, meaning: 'an image reference the registry client cannot split into host, repository, tag and digest', hint: 'use host/repository[:tag][@sha256:digest]' },
  CREDENTIALS: {
    transient: false,
    status: 500,
    meaning: 'a credentials file that cannot be read or used (not JSON, bad auth entry, Basic auth with an identity token)',
    hint: 'fix registries.<host> (or registries."*"): credentialsFile must be a readable docker config.json whose "auths" entry for the host has auth, username/password or identitytoken',
  },
  CREDENTIAL_HELPER: {
    transient: false,
    status: 500,
    meaning: 'a docker credential helper (credHelpers/credsStore) is missing, failed or answered garbage',
    hint: 'a docker credential helper named by credHelpers/credsStore in registries.<host>.credentialsFile failed: put docker-credential-<name> on ferry\'s PATH (the stock image is distroless and has none: build a custom image), or remove credHelpers/credsStore from that file and give the credentials inline in "auths"',
  },
  TLS: {
    transient: false,
    status: 502,
    meaning: 'the TLS handshake failed (untrusted, expired or mismatched certificate, protocol error)',
    hint: 'TLS failed; use a trusted certificate (NODE_EXTRA_CA_CERTS) or registries.<host>.insecure for plain HTTP',
  },
  PROTOCOL: {
    transient: false,
    status: 502,
    meaning: 'the registry answered something the distribution API does not allow',
    hint: 'the registry answered something the Docker Registry HTTP API v2 does not allow; check registries.<host>.endpoint',
  },
  UNSAFE_TARGET: {
    transient: false,
    status: 502,
    meaning: 'an upstream pointed ferry at a target it refuses (token realm, redirect, upload Location or page link); nothing was sent there',
    hint: 'the registry pointed ferry (token realm, redirect, upload or page link) at a target it refuses: a non-http(s) scheme, a link-local or cloud metadata address, loopback while the registry is remote, or a redirected token request; nothing was sent there. The registry is misconfigured or hostile: check registries.<host>.endpoint, or stop mirroring from it',
  },
  INVALID_DIGEST: {
    transient: false,
    status: 422,
    meaning: 'a digest ferry cannot verify or put in a URL (from a manifest, a header or a caller)',
    hint: 'a digest (from a manifest, a registry header or a caller) is not one ferry can verify or put in a URL: sha256:<64 lowercase hex> or sha512:<128 lowercase hex>; nothing was requested with it. From an upstream manifest or header: the image or the registry is broken or hostile',
  },
  MANIFEST_TOO_LARGE: {
    transient: false,
    status: 422,
    meaning: 'a manifest, an index tree or a copy over ferry\'s size limits',
    hint: 'the manifest exceeds ferry\'s limits (8 MiB read, 4 MiB pushed as distribution allows, 1024 manifests per index tree, index nesting 4 deep, 10,000 blobs per copy, 64 MiB of manifests per copy); such an image cannot be mirrored as it is',
  },
});

export const REGISTRY_ERROR_TABLE = REGISTRY;
export type RegistryErrorKind = keyof typeof REGISTRY.specs;
/** kind -> { transient, status, meaning, hint } */
export const REGISTRY_ERRORS = REGISTRY.specs;
/** kind -> `FERRY_ERR_REGISTRY_<kind>`, for comparing a caught error's code. */
export const REGISTRY_ERROR_CODES = REGISTRY.codes;

export const codeOf = (k: RegistryErrorKind): string => REGISTRY.code(k);

export interface ErrorContext {
  host: string;
  repository?: string;
  /** What was being done, e.g. "GET manifest v1", "PUT blob sha256:..". */
  op?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Fills `<name>` placeholders of the hint beyond `<host>` (e.g. `time`). */
  hintVars?: Record<string, string>;
}

/** Error context naming a repository (and optionally the operation in progress). */
export function repoCtx(r: { host: string; repository: string }, op?: string): ErrorContext {
  return { host: r.host, repository: r.repository, ...(op ? { op } : {}) };
}

export function registryError(kind: RegistryErrorKind, message: string, ctx: ErrorContext): FerryError {
  const where = ctx.repository ? `${ctx.host}/${ctx.repository}` : ctx.host;
  return REGISTRY.create(kind, `${where}: ${ctx.op ? `${ctx.op}: ` : ''}${message}`, {
    hint: Object.entries(ctx.hintVars ?? {}).reduce((h, [k, v]) => h.replaceAll(`<${k}>`, v), REGISTRY.specs[kind].hint.replaceAll('<host>', ctx.host)),
    cause: ctx.cause,
    details: { host: ctx.host, ...(ctx.repository ? { repository: ctx.repository } : {}), ...ctx.details },
  });
}

/** `Retry-After`: delta-seconds or an HTTP-date -> milliseconds from now (>= 0), or undefined. */
/** The registry's own error codes a FerryError carries (`details.registryCodes`), [] when it gave none. */
export function registryCodesOf(e: unknown): string[] {
  const codes = (e as FerryError | undefined)?.details?.registryCodes;
  return Array.isArray(codes) ? codes.filter((c): c is string => typeof c === 'string') : [];
}

export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * The error for a request the host's gate (host-gates.ts) will not send for
 * `waitMs` more: its pull budget or quota is used up, or it asked for a
 * pause (Retry-After). Transient, with `retryAfterMs` for the queue's backoff.
 */
export function gateHoldError(hold: { why: 'retry-after' | 'quota' | 'pulls'; limit?: number }, waitMs: number, ctx: ErrorContext, now = Date.now()): FerryError {
  const time = new Date(now + waitMs).toISOString();
  const details = { ...ctx.details, retryAfterMs: Math.ceil(waitMs), ...(hold.limit !== undefined ? { limit: hold.limit } : {}) };
  if (hold.why === 'pulls') {
    return registryError('PULL_LIMIT', `pull limit${hold.limit !== undefined ? ` (${hold.limit})` : ''} reached until ${time}; not sent`, { ...ctx, details, hintVars: { time } });
  }
  const why = hold.why === 'quota' ? 'RateLimit-Remaining is 0' : 'the registry asked for a pause (Retry-After)';
  return registryError('RATE_LIMITED', `${why} until ${time}; not sent`, { ...ctx, details });
}

export interface HttpFailure {
  status: number;
  /** `errors[].code` from the registry's JSON body. */
  codes: string[];
  /** First registry error message, if any (safe: registries never echo credentials). */
  message?: string;
  method: string;
  /** Kind of endpoint: decides what a bare 404 means. */
  what: 'manifest' | 'blob' | 'upload' | 'tags' | 'ping' | 'token' | 'catalog';
  retryAfter?: string | null;
  /** Did the request carry credentials/a token? */
  authenticated: boolean;
}

type Rule = [(f: HttpFailure) => boolean, RegistryErrorKind];

/** Ordered classification of HTTP failures: first match wins. */
const HTTP_RULES: Rule[] = [
  [(f) => f.status === 429 || f.codes.includes('TOOMANYREQUESTS'), 'RATE_LIMITED'],
  [(f) => f.status === 405 && f.method === 'DELETE', 'DELETE_DISABLED'],
  [(f) => f.codes.includes('UNSUPPORTED') && f.method === 'DELETE', 'DELETE_DISABLED'],
  [(f) => f.status >= 500, 'SERVER'],
  [(f) => f.status === 408, 'TIMEOUT'],
  [(f) => f.codes.includes('DENIED') || f.status === 403, 'DENIED'],
  [(f) => f.status === 401 || f.codes.includes('UNAUTHORIZED'), 'UNAUTHORIZED'],
  [(f) => f.codes.includes('NAME_UNKNOWN'), 'NAME_UNKNOWN'],
  [(f) => f.codes.includes('MANIFEST_UNKNOWN'), 'MANIFEST_UNKNOWN'],
  [(f) => f.codes.includes('BLOB_UNKNOWN') && f.what === 'blob', 'BLOB_UNKNOWN'],
  [(f) => f.status === 415, 'UNSUPPORTED_MEDIA_TYPE'],
  [
    (f) =>
      f.what === 'manifest' &&
      (f.codes.some((c) => ['MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_UNVERIFIED', 'DIGEST_INVALID', 'SIZE_INVALID', 'TAG_INVALID', 'BLOB_UNKNOWN'].includes(c)) ||
        f.status === 400),
    'MANIFEST_INVALID',
  ],
  [(f) => f.codes.includes('DIGEST_INVALID'), 'DIGEST_MISMATCH'],
  [(f) => f.status === 404 && f.what === 'manifest', 'MANIFEST_UNKNOWN'],
  [(f) => f.status === 404 && f.what === 'blob', 'BLOB_UNKNOWN'],
  [(f) => f.status === 404 && f.what === 'tags', 'NAME_UNKNOWN'],
];

export function classifyHttp(f: HttpFailure, ctx: ErrorContext): FerryError {
  let kind: RegistryErrorKind = 'PROTOCOL';
  for (const [test, k] of HTTP_RULES) {
    if (test(f)) {
      kind = k;
      break;
    }
  }
  const details: Record<string, unknown> = { ...ctx.details, status: f.status };
  if (f.codes.length) details.registryCodes = f.codes;
  if (kind === 'RATE_LIMITED' || kind === 'SERVER') {
    const ms = parseRetryAfter(f.retryAfter);
    if (ms !== undefined) details.retryAfterMs = ms;
  }
  let msg = `HTTP ${f.status}${f.codes.length ? ` ${f.codes.join(',')}` : ''}${f.message ? ` (${f.message})` : ''}`;
  if (kind === 'UNAUTHORIZED' && !f.authenticated) msg += ' — no credentials configured';
  return registryError(kind, msg, { ...ctx, details });
}

/** Node/undici network error codes -> kind. */
const NET_CODES: Record<string, RegistryErrorKind> = {
  ECONNREFUSED: 'UNREACHABLE',
  ENOTFOUND: 'UNREACHABLE',
  EAI_AGAIN: 'UNREACHABLE',
  EHOSTUNREACH: 'UNREACHABLE',
  ENETUNREACH: 'UNREACHABLE',
  EADDRNOTAVAIL: 'UNREACHABLE',
  UND_ERR_CONNECT_TIMEOUT: 'TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'TIMEOUT',
  ETIMEDOUT: 'TIMEOUT',
  ECONNRESET: 'CONNECTION',
  EPIPE: 'CONNECTION',
  ECONNABORTED: 'CONNECTION',
  UND_ERR_SOCKET: 'CONNECTION',
  UND_ERR_CLOSED: 'CONNECTION',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'SIZE_MISMATCH',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'SIZE_MISMATCH',
  ERR_STREAM_PREMATURE_CLOSE: 'CONNECTION',
  CERT_HAS_EXPIRED: 'TLS',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS',
  EPROTO: 'TLS',
};

function errChain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 6 && cur; i++) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** Marker reason used when ferry's own per-request timer aborts a request. */
export class RequestTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no response or progress for ${ms} ms`);
    this.name = 'RequestTimeout';
  }
}

/**
 * Marker thrown by http.ts when a hop or a resolved address is refused
 * (outbound.ts): classified as UNSAFE_TARGET, whoever catches it.
 */
export class UnsafeTarget extends Error {
  constructor(
    readonly problem: string,
    /** Origin (scheme://host:port) of the refused target: never a path or query, which may carry signatures. */
    readonly target: string,
  ) {
    super(`refused to connect to ${target}: ${problem}`);
    this.name = 'UnsafeTarget';
  }
}

/**
 * A thrown value from fetch / a stream -> FerryError. `aborted` tells whether
 * the caller's signal fired (then it is ABORTED, whatever undici said).
 */
export function classifyThrown(e: unknown, ctx: ErrorContext, aborted = false): FerryError {
  const chain = errChain(e);
  for (const c of chain) if (c instanceof FerryError) return c;
  for (const c of chain) {
    if (c instanceof UnsafeTarget) return registryError('UNSAFE_TARGET', c.message, { ...ctx, details: { ...ctx.details, target: c.target } });
  }
  if (aborted) return registryError('ABORTED', 'cancelled', { ...ctx, cause: e });
  for (const c of chain) {
    if (c instanceof RequestTimeout) return registryError('TIMEOUT', c.message, { ...ctx, cause: e });
  }
  for (const c of chain) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NET_CODES[code]) {
      return registryError(NET_CODES[code]!, `${code}${(c as Error).message ? ` (${(c as Error).message})` : ''}`, { ...ctx, cause: e });
    }
  }
  const text = chain.map((c) => (c instanceof Error ? `${c.name} ${c.message}` : String(c))).join(' | ');
  if (/socket hang up|other side closed|terminated|ECONNRESET|premature close|aborted/i.test(text)) {
    return registryError('CONNECTION', text, { ...ctx, cause: e });
  }
  if (/timeout|timed out/i.test(text)) return registryError('TIMEOUT', text, { ...ctx, cause: e });
  if (/certificate|ssl|tls/i.test(text)) return registryError('TLS', text, { ...ctx, cause: e });
  if (/AbortError/.test(text)) return registryError('ABORTED', 'cancelled', { ...ctx, cause: e });
  // unknown network-level failure: assume transient (fetch failed)
  return registryError('CONNECTION', text, { ...ctx, cause: e });
}
