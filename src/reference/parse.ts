/**
 * Image references, parsed and normalized exactly as Docker's
 * github.com/distribution/reference v0.6 does (`ParseNormalizedNamed`,
 * `ParseAnyReference`, `FamiliarString`, `TagNameOnly`), with digests checked
 * as go-digest v1 checks them (sha256, sha384 and sha512 registered).
 *
 * Grammar (distribution/reference):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] path
 *   domain           := host [":" port]
 *   host             := domain-name | "[" IPv6 "]"      ; uppercase allowed
 *   domain-name      := label ("." label)*              ; label [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
 *   path             := component ("/" component)*      ; at most 255 characters
 *   component        := [a-z0-9]+ (([._]|__|-+) [a-z0-9]+)*
 *   tag              := [\w][\w.-]{0,127}
 *   digest           := algorithm ":" hex               ; sha256: 64, sha384: 96, sha512: 128 lowercase hex
 *
 * Normalization (`splitDockerDomain`): the first "/"-separated component is the
 * domain when it is `localhost`, contains "." or ":", or contains uppercase;
 * otherwise the domain is `docker.io`. `index.docker.io` folds to `docker.io`,
 * and a single-component Docker Hub path gets `library/`. The domain keeps its
 * case here (as in Docker); `mirror.ts` folds it when building mirror paths.
 *
 * Docker quirks kept on purpose, because kubelet/containerd parse the same way:
 * - `foo_bar.com/x` (first component has "." but is not a valid host) parses
 *   with an EMPTY domain and path `foo_bar.com/x`.
 * - the 255 limit applies to the path only, not domain + path (v0.6 behaviour;
 *   older parsers counted the domain too, which is why `mirror.ts` checks the
 *   whole mirrored name).
 *
 * No I/O. Results are frozen and cached (bounded LRU), because the admission
 * webhook parses every container image of every pod.
 */
import type { FerryError } from '../errors.js';
import { REFERENCE_ERROR_CODES as CODES, referenceError } from './errors.js';

/** A named image reference, fully normalized (`nginx` -> domain `docker.io`, path `library/nginx`). */
export interface ImageReference {
  /** Registry host[:port], case as written (`docker.io`, `localhost:5000`, `[::1]:5000`); `''` in Docker's empty-domain quirk. */
  readonly domain: string;
  /** Repository path inside the registry (`library/nginx`). */
  readonly path: string;
  readonly tag?: string | undefined;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest?: string | undefined;
}

/** What `parseAnyReference` returns for an input that is only a digest or image ID. */
export interface DigestReference {
  readonly digest: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** distribution/reference `RepositoryNameTotalLengthMax`. */
export const NAME_MAX_LENGTH = 255;

// ---- grammar, compiled once. Each is anchored and linear on V8 (no overlapping quantifiers).
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN_RE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest `DigestRegexpAnchored`, used to tell "unsupported" from "invalid format". */
const GO_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const LOWER_HEX_RE = /^[a-f0-9]+$/;
const NON_ASCII_RE = /[^\x00-\x7f]/;
const DOMAIN_HINT_RE = /[.:]/;

/** Hex length per registered digest algorithm (go-digest v1 with crypto/sha256 and crypto/sha512). */
const DIGEST_HEX_LENGTH: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/** Exported for `mirror.ts`: the grammar pieces it must respect. */
export function isValidDomain(s: string): boolean {
  return DOMAIN_RE.test(s);
}
export function isValidPath(s: string): boolean {
  return PATH_RE.test(s);
}

/** Go's strings.ToLower (per code point, simple case mapping), which differs from JS only for U+0130. */
function goLower(s: string): string {
  if (!NON_ASCII_RE.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    out += lower.length > ch.length ? String.fromCodePoint(lower.codePointAt(0) ?? 0) : lower;
  }
  return out;
}

// ---- matching state: `matchReference` writes here instead of allocating a result object.
let mDomain = '';
let mPath = '';
let mTag: string | undefined;
let mDigest: string | undefined;

/** distribution/reference `ReferenceRegexp` + `anchoredNameRegexp`, by structure instead of one backtracking regexp. */
function matchReference(s: string): boolean {
  // "@" cannot appear in a name, a tag or a digest: at most one, and the digest follows it.
  let rest = s;
  mDigest = undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    const digest = s.slice(at + 1);
    if (!DIGEST_RE.test(digest)) return false; // also rejects a second "@"
    mDigest = digest;
    rest = s.slice(0, at);
  }
  // A ":" after the last "/" cannot be in the name (only a domain's port has one), so it starts the tag.
  mTag = undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    if (!TAG_RE.test(tag)) return false;
    mTag = tag;
    rest = rest.slice(0, colon);
  }
  // name := [domain "/"] path, the domain taken when it fits (RE2 leftmost-first on an optional group).
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const domain = rest.slice(0, slash);
    const path = rest.slice(slash + 1);
    if (DOMAIN_RE.test(domain) && PATH_RE.test(path)) {
      mDomain = domain;
      mPath = path;
      return true;
    }
  }
  if (!PATH_RE.test(rest)) return false;
  mDomain = '';
  mPath = rest;
  return true;
}

/** go-digest v1 `Digest.Validate` for a string that already matched the reference grammar's digest. */
function validateDigest(input: string, digest: string): FerryError | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const size = DIGEST_HEX_LENGTH.get(algorithm);
  if (size === undefined) {
    return GO_DIGEST_RE.test(digest)
      ? referenceError(CODES.DIGEST_UNSUPPORTED, input, 'unsupported digest algorithm', { algorithm })
      : referenceError(CODES.DIGEST_FORMAT, input, 'invalid checksum digest format');
  }
  if (hex.length !== size) return referenceError(CODES.DIGEST_LENGTH, input, 'invalid checksum digest length');
  if (!LOWER_HEX_RE.test(hex)) return referenceError(CODES.DIGEST_FORMAT, input, 'invalid checksum digest format');
  return undefined;
}

/** distribution/reference `Parse` (no normalization); `input` is what the user wrote, for messages. */
function dockerParse(s: string, input: string): ImageReference | FerryError {
  if (s === '') return referenceError(CODES.INVALID_FORMAT, input, 'repository name must have at least one component');
  if (!matchReference(s)) {
    const lower = goLower(s);
    if (lower !== s && matchReference(lower)) {
      return referenceError(CODES.UPPERCASE, input, 'repository name must be lowercase');
    }
    return referenceError(CODES.INVALID_FORMAT, input, 'invalid reference format');
  }
  if (mPath.length > NAME_MAX_LENGTH) {
    return referenceError(
      CODES.NAME_TOO_LONG,
      input,
      `repository name must not be more than ${NAME_MAX_LENGTH} characters`,
      { length: mPath.length },
    );
  }
  const domain = mDomain;
  const path = mPath;
  const tag = mTag;
  const digest = mDigest;
  if (digest !== undefined) {
    const bad = validateDigest(input, digest);
    if (bad) return bad;
  }
  return Object.freeze({ domain, path, tag, digest });
}

/** distribution/reference `ParseNormalizedNamed`. */
function parseNormalizedNamed(s: string): ImageReference | FerryError {
  if (IDENTIFIER_RE.test(s)) {
    return referenceError(
      CODES.HEX_NAME,
      s,
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  // splitDockerDomain
  let domain: string;
  let remainder: string;
  const slash = s.indexOf('/');
  if (slash < 0) {
    domain = DEFAULT_DOMAIN;
    remainder = OFFICIAL_REPO_PREFIX + s;
  } else {
    const maybeDomain = s.slice(0, slash);
    if (maybeDomain === 'localhost') {
      domain = maybeDomain;
      remainder = s.slice(slash + 1);
    } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
      domain = DEFAULT_DOMAIN;
      remainder = s.slice(slash + 1);
    } else if (DOMAIN_HINT_RE.test(maybeDomain) || goLower(maybeDomain) !== maybeDomain) {
      domain = maybeDomain;
      remainder = s.slice(slash + 1);
    } else {
      domain = DEFAULT_DOMAIN;
      remainder = s;
    }
    if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  }
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (goLower(remote) !== remote) {
    return referenceError(
      CODES.UPPERCASE,
      s,
      `invalid reference format: repository name (${remote}) must be lowercase`,
    );
  }
  return dockerParse(`${domain}/${remainder}`, s);
}

// ---- bounded LRU of recent results (the webhook sees the same few hundred images over and over).
const CACHE_MAX = 10_000;
/** Inputs longer than any valid reference can be are not worth a slot. */
const CACHE_KEY_MAX = 1024;
const cache = new Map<string, ImageReference | FerryError>();

/** Drop every cached parse result (tests, or after a config change that cannot affect parsing anyway). */
export function clearReferenceCache(): void {
  cache.clear();
}

/**
 * Parse like Docker's `ParseNormalizedNamed`, returning the error instead of
 * throwing (cheap on hot paths). Results, errors included, are shared and frozen.
 */
export function tryParseReference(s: string): ImageReference | FerryError {
  const hit = cache.get(s);
  if (hit !== undefined) {
    cache.delete(s); // refresh: Map iteration order is insertion order, so the oldest entry is first
    cache.set(s, hit);
    return hit;
  }
  const result = parseNormalizedNamed(s);
  if (s.length <= CACHE_KEY_MAX) {
    if (cache.size >= CACHE_MAX) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(s, result);
  }
  return result;
}

/** Parse like Docker's `ParseNormalizedNamed`; throws a FerryError (`FERRY_ERR_REFERENCE_*`). */
export function parseReference(s: string): ImageReference {
  const r = tryParseReference(s);
  if (r instanceof Error) throw r;
  return r;
}

/**
 * Docker's `ParseAnyReference`: a bare 64-hex image ID becomes `sha256:<id>`,
 * a valid `algorithm:hex` digest stays a digest, anything else must be a name.
 */
export function parseAnyReference(s: string): ImageReference | DigestReference {
  if (IDENTIFIER_RE.test(s)) return Object.freeze({ digest: `sha256:${s}` });
  const colon = s.indexOf(':');
  if (colon > 0) {
    const size = DIGEST_HEX_LENGTH.get(s.slice(0, colon));
    if (size !== undefined && s.length - colon - 1 === size && LOWER_HEX_RE.test(s.slice(colon + 1))) {
      return Object.freeze({ digest: s });
    }
  }
  return parseReference(s);
}

/** Narrows what `parseAnyReference` returned. */
export function isNamedReference(r: ImageReference | DigestReference): r is ImageReference {
  return 'path' in r;
}

/** `domain/path` (Docker's `Name()`): `docker.io/library/nginx`. */
export function repositoryOf(r: ImageReference): string {
  return r.domain === '' ? r.path : `${r.domain}/${r.path}`;
}

/**
 * `host/path` of an already normalized `host/path:tag` or `host/path@digest`
 * string, without parsing it again (a port's `:` is before the last `/`).
 */
export function repositoryOfRef(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * The fully normalized string: `docker.io/library/nginx:latest`. Docker's
 * `TagNameOnly(ref).String()`: `:latest` is added only when there is neither a
 * tag nor a digest, so a digest-only reference stays digest-only
 * (`docker.io/library/nginx@sha256:…`), and tag + digest keep both.
 */
export function formatReference(r: ImageReference): string {
  const name = repositoryOf(r);
  if (!r.digest) return `${name}:${r.tag || DEFAULT_TAG}`;
  return r.tag ? `${name}:${r.tag}@${r.digest}` : `${name}@${r.digest}`;
}

/**
 * Docker's `FamiliarString`: `docker.io/` and a single-level `library/`
 * dropped, tag and digest as present (no `latest` added): `nginx:1.27`,
 * `bitnami/redis`, `ghcr.io/org/app@sha256:…`. A digest-only reference gives its digest.
 */
export function familiarName(r: ImageReference | DigestReference): string {
  if (!isNamedReference(r)) return r.digest;
  let name: string;
  if (r.domain === DEFAULT_DOMAIN) {
    const p = r.path;
    name =
      p.startsWith(OFFICIAL_REPO_PREFIX) && !p.includes('/', OFFICIAL_REPO_PREFIX.length)
        ? p.slice(OFFICIAL_REPO_PREFIX.length)
        : p;
  } else {
    name = repositoryOf(r);
  }
  if (r.tag) name += `:${r.tag}`;
  if (r.digest) name += `@${r.digest}`;
  return name;
}

/** `parseReference` then `formatReference`: `nginx` -> `docker.io/library/nginx:latest`. Throws a FerryError. */
export function normalizeReference(s: string): string {
  return formatReference(parseReference(s));
}
