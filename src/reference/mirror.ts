/**
 * Mirror paths: where an upstream image lives in the mirror registry.
 *
 *   <mirror.registry>/<mirror.prefix/><host component>/<upstream path>[:tag][@digest]
 *
 *   docker.io/library/nginx:1.27  ->  mirror.local:5000/docker.io/library/nginx:1.27
 *   ghcr.io/org/app@sha256:…      ->  mirror.local:5000/cache/ghcr.io/org/app@sha256:…   (prefix "cache")
 *
 * Tag and digest are kept as they are (`:latest` is added only when the
 * reference has neither, like `formatReference`).
 *
 * ## Host component escaping
 *
 * The upstream host becomes one path component, which must be lowercase and
 * match `[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*`. The escaping:
 *
 * 1. The host is lowercased. DNS names are case-insensitive, so
 *    `Registry.Example.COM` and `registry.example.com` ARE the same registry
 *    and share one mirror path (the only two inputs that meet on purpose).
 * 2. A DNS name or IPv4 address is written as is: its labels are [a-z0-9-]
 *    starting and ending alphanumeric, joined by ".", which is already a valid
 *    component. So `docker.io`, `ghcr.io`, `quay.io`, `registry.k8s.io`,
 *    `xn--n3h.com`, `10.0.0.1` map to themselves.
 * 3. A port is appended after a single underscore: `localhost:5000` ->
 *    `localhost_5000`, `10.0.0.1:443` -> `10.0.0.1_443`.
 * 4. An IPv6 host is written `ipv6__` + its ":"-separated groups joined by "-",
 *    an empty group (from "::") written `z`, then `_<port>` if any:
 *    `[::1]:5000` -> `ipv6__z-z-1_5000`, `[2001:db8::]` -> `ipv6__2001-db8-z-z`.
 *    The text is kept as written (after lowercasing), not re-compressed.
 *
 * Why it is reversible (hence injective): Docker's host grammar has no "_" at
 * all, so every "_" in a host component comes from the escaping. A component
 * with "__" is IPv6 (rule 4 is the only one that writes "__"); otherwise one
 * "_" splits name and port (rule 3); otherwise it is a bare name (rule 2).
 * Within rule 4, groups are hex or `z` (not a hex digit) and "-" never occurs
 * in IPv6 text. The host component contains no "/", so the first "/" after the
 * prefix ends it, and the upstream path follows verbatim. `fromMirrorReference`
 * and `fromMirrorImageReference` implement the inverse; test/reference/
 * mirror.test.ts round-trips tens of thousands of generated hosts and paths.
 *
 * Not mapped: a reference Docker parses with an empty domain (`foo_bar.com/x`:
 * a first component with "." that is not a valid host) throws
 * FERRY_ERR_REFERENCE_MIRROR_NO_HOST; there is no registry to copy from.
 * A mirrored name over 255 characters (registry included: containerd 1.x and
 * CRI-O still count the whole name) throws FERRY_ERR_REFERENCE_MIRROR_TOO_LONG
 * rather than being truncated, since truncation would make two images meet.
 *
 * References already in the mirror (domain equal to the mirror registry, case
 * aside, and path under the prefix) are left alone by `toMirrorReference`.
 *
 * Use `fromMirrorImageReference`'s `domain` and `path` to reach the upstream
 * registry. The string `fromMirrorReference` gives re-parses to the same
 * thing except where case folding changed how Docker's normalizer reads it:
 * a single-label host (`REGISTRY/app` comes back as `registry/app`, which
 * Docker reads as a Docker Hub path) or `Docker.IO/app` (comes back as
 * `docker.io/app`, which Docker reads as `docker.io/library/app`).
 */
import { type FerryError, isFerryError } from '../errors.js';
import { REFERENCE_ERROR_CODES as CODES, mirrorError } from './errors.js';
import {
  type ImageReference,
  NAME_MAX_LENGTH,
  formatReference,
  isValidDomain,
  isValidPath,
  parseReference,
  tryParseReference,
} from './parse.js';

export interface MirrorOptions {
  /** `mirror.registry`: host[:port] of the mirror, e.g. `mirror.local:5000`. */
  registry: string;
  /**
   * `mirror.prefix`: lowercase path components put before the host component,
   * e.g. `cache` or `team/cache`; leading and trailing "/" are ignored.
   * @defaultValue ''
   */
  prefix?: string | undefined;
}

interface ResolvedMirror {
  readonly registry: string;
  readonly registryLower: string;
  /** '' or the prefix with a trailing "/". */
  readonly prefix: string;
}

const IPV6_MARK = 'ipv6__';
const IPV6_EMPTY_GROUP = 'z';
const IPV6_COMPONENT_RE = /^ipv6__((?:[0-9a-f]+|z)(?:-(?:[0-9a-f]+|z))*)(?:_([0-9]+))?$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const NAME_COMPONENT_RE = new RegExp(`^(${LABEL}(?:\\.${LABEL})*)(?:_([0-9]+))?$`);

/**
 * The path component for an upstream host (see the escaping above):
 * `docker.io` -> `docker.io`, `localhost:5000` -> `localhost_5000`,
 * `[::1]:5000` -> `ipv6__z-z-1_5000`. Throws FERRY_ERR_REFERENCE_MIRROR_NO_HOST
 * for anything that is not a Docker domain.
 */
export function encodeHost(domain: string): string {
  if (!isValidDomain(domain)) {
    throw mirrorError(CODES.MIRROR_NO_HOST, `cannot mirror: ${JSON.stringify(domain)} is not a registry host`, {
      domain,
    });
  }
  const d = domain.toLowerCase();
  if (d.charCodeAt(0) === 0x5b /* "[" */) {
    const close = d.indexOf(']');
    const groups = d
      .slice(1, close)
      .split(':')
      .map((g) => (g === '' ? IPV6_EMPTY_GROUP : g))
      .join('-');
    return close + 1 < d.length ? `${IPV6_MARK}${groups}_${d.slice(close + 2)}` : IPV6_MARK + groups;
  }
  const colon = d.indexOf(':');
  return colon < 0 ? d : `${d.slice(0, colon)}_${d.slice(colon + 1)}`;
}

/** The inverse of `encodeHost` (lowercase host), or undefined if `component` is not an encoded host. */
export function decodeHost(component: string): string | undefined {
  if (component.startsWith(IPV6_MARK)) {
    const m = IPV6_COMPONENT_RE.exec(component);
    if (!m || m[1] === undefined) return undefined;
    let inner = '';
    const groups = m[1].split('-');
    for (let i = 0; i < groups.length; i++) {
      if (i > 0) inner += ':';
      const g = groups[i];
      if (g !== IPV6_EMPTY_GROUP && g !== undefined) inner += g;
    }
    return m[2] === undefined ? `[${inner}]` : `[${inner}]:${m[2]}`;
  }
  const m = NAME_COMPONENT_RE.exec(component);
  if (!m || m[1] === undefined) return undefined;
  return m[2] === undefined ? m[1] : `${m[1]}:${m[2]}`;
}

// Resolved options per (registry, prefix): config changes rarely, lookups happen per container.
const RESOLVED_MAX = 64;
const resolved = new Map<string, ResolvedMirror>();

function resolveMirror(opts: MirrorOptions): ResolvedMirror {
  const rawPrefix = opts.prefix ?? '';
  const key = `${opts.registry}\n${rawPrefix}`;
  const hit = resolved.get(key);
  if (hit) return hit;

  const registry = opts.registry;
  // The mirror registry must come back as the domain of `<registry>/<path>`: not a Docker Hub
  // path component (`mirror`), not `index.docker.io` (folded to docker.io), not a URL.
  const probe = registry === '' ? undefined : tryParseReference(`${registry}/x/y`);
  if (probe === undefined || probe instanceof Error || probe.domain !== registry) {
    throw mirrorError(CODES.MIRROR_CONFIG, `mirror.registry ${JSON.stringify(registry)} is not a registry host[:port]`, {
      registry,
    });
  }
  let prefix = rawPrefix;
  while (prefix.startsWith('/')) prefix = prefix.slice(1);
  while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  if (prefix !== '' && !isValidPath(prefix)) {
    throw mirrorError(
      CODES.MIRROR_CONFIG,
      `mirror.prefix ${JSON.stringify(rawPrefix)} is not a lowercase repository path`,
      { prefix: rawPrefix },
    );
  }
  const r: ResolvedMirror = { registry, registryLower: registry.toLowerCase(), prefix: prefix === '' ? '' : `${prefix}/` };
  if (resolved.size >= RESOLVED_MAX) resolved.clear();
  resolved.set(key, r);
  return r;
}

function isUnder(r: ImageReference, m: ResolvedMirror): boolean {
  return (
    r.domain.length === m.registryLower.length &&
    r.domain.toLowerCase() === m.registryLower &&
    (m.prefix === '' || r.path.startsWith(m.prefix))
  );
}

function toRef(ref: ImageReference | string): ImageReference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

/**
 * True when `ref` is already in the mirror: its domain is the mirror registry
 * (case aside) and its path is under the prefix. Such references are left
 * alone. An unparseable string is not in the mirror.
 * Throws FERRY_ERR_REFERENCE_MIRROR_CONFIG for unusable options.
 */
export function isMirrorReference(ref: ImageReference | string, opts: MirrorOptions): boolean {
  const m = resolveMirror(opts);
  const r = typeof ref === 'string' ? tryParseReference(ref) : ref;
  return !(r instanceof Error) && isUnder(r, m);
}

/**
 * The mirror location of `ref` as a structured reference (domain = the mirror
 * registry). A reference already in the mirror is returned unchanged. Throws
 * FerryError: a parse error for an invalid string, MIRROR_CONFIG,
 * MIRROR_NO_HOST, MIRROR_TOO_LONG.
 */
export function toMirrorImageReference(ref: ImageReference | string, opts: MirrorOptions): ImageReference {
  const m = resolveMirror(opts);
  const r = toRef(ref);
  if (isUnder(r, m)) return r;
  if (r.domain === '') {
    throw mirrorError(
      CODES.MIRROR_NO_HOST,
      `cannot mirror ${JSON.stringify(formatReference(r))}: it names no registry host ` +
        `(Docker reads "${r.path.split('/', 1)[0] ?? ''}" as a path component, not a host)`,
      { reference: formatReference(r) },
    );
  }
  const path = `${m.prefix}${encodeHost(r.domain)}/${r.path}`;
  const length = m.registry.length + 1 + path.length;
  if (length > NAME_MAX_LENGTH) {
    throw mirrorError(
      CODES.MIRROR_TOO_LONG,
      `cannot mirror ${JSON.stringify(formatReference(r))}: the mirrored name would have ${length} characters (at most ${NAME_MAX_LENGTH})`,
      { reference: formatReference(r), length, max: NAME_MAX_LENGTH },
    );
  }
  return Object.freeze({ domain: m.registry, path, tag: r.tag, digest: r.digest });
}

/**
 * The mirror reference string for `ref`, fully normalized:
 * `nginx:1.27` -> `mirror.local:5000/docker.io/library/nginx:1.27`.
 * Same rules and errors as `toMirrorImageReference`.
 */
export function toMirrorReference(ref: ImageReference | string, opts: MirrorOptions): string {
  return formatReference(toMirrorImageReference(ref, opts));
}

/** Like `toMirrorReference`, returning the FerryError instead of throwing (config errors still throw). */
export function tryToMirrorReference(ref: ImageReference | string, opts: MirrorOptions): string | FerryError {
  const r = typeof ref === 'string' ? tryParseReference(ref) : ref;
  if (r instanceof Error) return r;
  try {
    return toMirrorReference(r, opts);
  } catch (e) {
    if (isFerryError(e) && e.code !== CODES.MIRROR_CONFIG) return e;
    throw e;
  }
}

/**
 * The upstream reference a mirror reference was made from, structured, or
 * undefined when `mirrorRef` is not under the mirror (registry + prefix) or
 * its host component is not one `toMirrorReference` writes. The domain comes
 * back lowercase. Inverse of `toMirrorImageReference` for every upstream
 * reference (host case aside). Prefer this over the string form to reach the
 * upstream registry (see the note at the top of this file).
 */
export function fromMirrorImageReference(
  mirrorRef: ImageReference | string,
  opts: MirrorOptions,
): ImageReference | undefined {
  const m = resolveMirror(opts);
  const r = typeof mirrorRef === 'string' ? tryParseReference(mirrorRef) : mirrorRef;
  if (r instanceof Error || !isUnder(r, m)) return undefined;
  const slash = r.path.indexOf('/', m.prefix.length);
  if (slash < 0) return undefined;
  const domain = decodeHost(r.path.slice(m.prefix.length, slash));
  if (domain === undefined) return undefined;
  return Object.freeze({ domain, path: r.path.slice(slash + 1), tag: r.tag, digest: r.digest });
}

/**
 * `fromMirrorImageReference` as a normalized string:
 * `mirror.local:5000/docker.io/library/nginx:1.27` -> `docker.io/library/nginx:1.27`.
 */
export function fromMirrorReference(mirrorRef: ImageReference | string, opts: MirrorOptions): string | undefined {
  const up = fromMirrorImageReference(mirrorRef, opts);
  return up === undefined ? undefined : formatReference(up);
}
