/**
 * Manifest and small-document requests: HEAD/GET/PUT/DELETE of manifests, tag
 * listing and JSON config blobs. Everything here is read whole into memory and
 * verified against its digest; streamed layer blobs live in blob-transfer.ts.
 * (manifest.ts holds the pure media-type and index-filtering decisions.)
 *
 * Each function takes the engine's Transport and an already linked signal; the
 * public wrappers in engine.ts add the close/abort linking and error
 * classification.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FerryError } from '../errors.js';
import { deleteScope, pullScope, pushScope } from './auth.js';
import { registryCodesOf, registryError, repoCtx, type ErrorContext } from './errors.js';
import { algorithmOf, digestOf, isSupportedType, MANIFEST_ACCEPT, MAX_MANIFEST_PUSH_BYTES, MAX_MANIFEST_READ_BYTES, manifestMediaType, sha256Digest } from './manifest.js';
import { blobPath, checkDigest, digestProblem, manifestPath, tagProblem, tagsPath } from './paths.js';
import { manifestRefOf, type RegistryRef } from './ref.js';
import type { RegistryResponse, RequestSpec, Transport } from './transport/index.js';

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  json: any;
}

type Repo = { host: string; repository: string };

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;

/** MANIFEST_TOO_LARGE for `size` bytes over `limit` (`what`: "read", "pushed"). */
export function manifestTooLarge(size: number | undefined, limit: number, what: string, ctx: ErrorContext): FerryError {
  const s = size === undefined ? 'more than' : `${size} bytes, over`;
  return registryError('MANIFEST_TOO_LARGE', `manifest is ${s} the ${MiB(limit)} ferry allows ${what}`, { ...ctx, details: { ...ctx.details, limit, ...(size !== undefined ? { size } : {}) } });
}

/** A HEAD or GET of `r`'s manifest (by digest when it has one, else by tag), every media type accepted. */
function readManifest(r: RegistryRef, method: 'HEAD' | 'GET', expect: number[] | undefined, signal: AbortSignal): RequestSpec {
  const ref = manifestRefOf(r);
  return {
    host: r.host,
    repository: r.repository,
    method,
    path: manifestPath(r, ref),
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [pullScope(r.repository)],
    what: 'manifest',
    ...(expect ? { expect } : {}),
    signal,
    op: `${method} manifest ${ref}`,
  };
}

export async function headManifest(transport: Transport, r: RegistryRef, signal: AbortSignal): Promise<ManifestInfo | undefined> {
  const ref = manifestRefOf(r);
  const res = await transport.request(readManifest(r, 'HEAD', [200, 404], signal));
  res.dispose();
  if (res.status === 404) return undefined;
  const digest = res.headers.get('docker-content-digest');
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const size = Number(res.headers.get('content-length') ?? NaN);
  if (size > MAX_MANIFEST_READ_BYTES) throw manifestTooLarge(size, MAX_MANIFEST_READ_BYTES, 'read', repoCtx(r, `HEAD manifest ${ref}`));
  // a digest header goes into later URLs: one that is not a valid digest is no header at all
  if (digest && !digestProblem(digest) && isSupportedType(mediaType) && Number.isFinite(size)) return { digest, mediaType, size };
  // no usable headers: GET and hash
  const m = await fetchManifest(transport, r, signal, true);
  return m ? { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length } : undefined;
}

export async function fetchManifest(transport: Transport, r: RegistryRef, signal: AbortSignal, allow404: true): Promise<FetchedManifest | undefined>;
export async function fetchManifest(transport: Transport, r: RegistryRef, signal: AbortSignal, allow404?: false): Promise<FetchedManifest>;
export async function fetchManifest(transport: Transport, r: RegistryRef, signal: AbortSignal, allow404 = false): Promise<FetchedManifest | undefined> {
  const ref = manifestRefOf(r);
  const ctx = repoCtx(r, `GET manifest ${ref}`);
  const res = await transport.request(readManifest(r, 'GET', allow404 ? [200, 404] : undefined, signal));
  if (res.status === 404) {
    res.dispose();
    return undefined;
  }
  const bytes = await res.buffer(MAX_MANIFEST_READ_BYTES, (limit) => manifestTooLarge(undefined, limit, 'read', ctx));
  let json: any;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw registryError('MANIFEST_INVALID', 'manifest is not JSON', ctx);
  }
  const mediaType = manifestMediaType(res.headers.get('content-type'), json);
  // by digest: verified with the reference's own algorithm (sha256 or sha512, paths.ts)
  const digest = digestOf(bytes, r.digest ? algorithmOf(r.digest) : 'sha256');
  if (r.digest && digest !== r.digest) {
    throw registryError('DIGEST_MISMATCH', `manifest bytes hash to ${digest}, expected ${r.digest}`, { ...ctx, details: { digest: r.digest, actualDigest: digest } });
  }
  if (!r.digest) checkReportedDigest(bytes, res.headers.get('docker-content-digest'), ctx);
  return { bytes, digest, mediaType, json };
}

/**
 * By tag, the digest a copy goes on with is the hash of the exact bytes read;
 * a `Docker-Content-Digest` the registry sent with them must name the same
 * bytes (hashed with the header's own algorithm): when it does not, the
 * registry and ferry would disagree about which image the tag is, and the
 * copy stops instead of guessing. A header that is no digest is ignored.
 */
function checkReportedDigest(bytes: Buffer, reported: string | null, ctx: ErrorContext): void {
  if (!reported || digestProblem(reported)) return;
  const actual = digestOf(bytes, algorithmOf(reported));
  if (actual !== reported) {
    throw registryError('DIGEST_MISMATCH', `manifest bytes hash to ${actual}, the registry's Docker-Content-Digest says ${reported}`, {
      ...ctx,
      details: { ...ctx.details, digest: reported, actualDigest: actual },
    });
  }
}

/**
 * PUT `bytes` as manifest `ref` (tag or digest) of `r`'s repository; returns
 * the digest the registry reports (when it is one). Bytes over distribution's
 * limit are refused before the PUT.
 */
export async function pushManifest(transport: Transport, r: RegistryRef, ref: string, bytes: Buffer, mediaType: string, signal: AbortSignal): Promise<string> {
  if (bytes.length > MAX_MANIFEST_PUSH_BYTES) throw manifestTooLarge(bytes.length, MAX_MANIFEST_PUSH_BYTES, 'pushed', repoCtx(r, `PUT manifest ${ref}`));
  return retryLinkReadRace(() => pushManifestOnce(transport, r, ref, bytes, mediaType, signal), signal);
}

/** `put()` (one manifest PUT), again after a link-read race (isLinkReadRace): every manifest PUT ferry makes goes through this. */
export async function retryLinkReadRace<T>(put: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await put();
    } catch (e) {
      if (attempt >= LINK_RACE_RETRIES || !isLinkReadRace(e) || signal.aborted) throw e;
      await sleep(100 * 3 ** attempt, undefined, { signal });
    }
  }
}

/** Extra PUTs after a link-read race (100 ms, then 300 ms later). */
const LINK_RACE_RETRIES = 2;

/**
 * docker-registry 2.8 answers a manifest PUT with DIGEST_INVALID next to
 * MANIFEST_BLOB_UNKNOWN when reading a referenced manifest's or blob's link
 * file failed: its filesystem driver rewrites link files in place, so a
 * concurrent PUT of the same child (two copies of one image, by tag and by
 * digest, in the same repository) can be read half-written. What it names is
 * there; the same PUT a moment later goes through. A missing reference alone
 * (MANIFEST_BLOB_UNKNOWN without DIGEST_INVALID) is a real answer: not retried.
 */
function isLinkReadRace(e: unknown): boolean {
  const codes = registryCodesOf(e);
  return (e as FerryError | undefined)?.details?.status === 400 && codes.includes('DIGEST_INVALID') && codes.includes('MANIFEST_BLOB_UNKNOWN');
}

async function pushManifestOnce(transport: Transport, r: RegistryRef, ref: string, bytes: Buffer, mediaType: string, signal: AbortSignal): Promise<string> {
  const path = manifestPath(r, ref);
  const res = await transport.request({
    host: r.host,
    repository: r.repository,
    method: 'PUT',
    path,
    headers: { 'Content-Type': mediaType },
    body: bytes,
    scopes: [pushScope(r.repository)],
    what: 'manifest',
    retry: true,
    signal,
    op: `PUT manifest ${ref}`,
  });
  res.dispose();
  const reported = res.headers.get('docker-content-digest');
  return reported && !digestProblem(reported) ? reported : sha256Digest(bytes);
}

/** pushManifest under the reference's tag (else digest), refusing bytes that do not hash to the reference's digest (sha256 or sha512). */
export async function putManifest(transport: Transport, r: RegistryRef, bytes: Buffer, mediaType: string, signal: AbortSignal): Promise<{ digest: string }> {
  const computed = r.digest ? digestOf(bytes, algorithmOf(checkDigest(r.digest, r, 'reference'))) : sha256Digest(bytes);
  if (r.digest && r.digest !== computed) {
    throw registryError('DIGEST_MISMATCH', `manifest bytes hash to ${computed}, reference says ${r.digest}`, repoCtx(r, 'PUT manifest'));
  }
  await pushManifest(transport, r, r.tag ?? r.digest ?? computed, bytes, mediaType, signal);
  return { digest: computed };
}

/** DELETE by digest; false when the registry did not have it (404: idempotent). */
export async function deleteManifest(transport: Transport, r: Repo, digest: string, signal: AbortSignal): Promise<boolean> {
  const res = await transport.request({
    host: r.host,
    repository: r.repository,
    method: 'DELETE',
    path: manifestPath(r, checkDigest(digest, r, 'caller')),
    scopes: [deleteScope(r.repository)],
    what: 'manifest',
    expect: [200, 202, 204, 404],
    retry: true,
    signal,
    op: `DELETE manifest ${digest}`,
  });
  res.dispose();
  return res.status !== 404;
}

/**
 * Every tag of the repository, following `Link: rel="next"` pages (loop- and
 * runaway-guarded), sorted. Names that are not tags (`../x`, `a?b`) are
 * dropped: callers build references and URLs from these.
 */
export async function listTags(transport: Transport, r: Repo, signal: AbortSignal): Promise<string[]> {
  const tags = new Set<string>();
  let path: string | undefined = tagsPath(r, 1000);
  const seen = new Set<string>();
  while (path && !seen.has(path) && seen.size < 10_000) {
    seen.add(path);
    const res: RegistryResponse = await transport.request({
      host: r.host,
      repository: r.repository,
      method: 'GET',
      path,
      scopes: [pullScope(r.repository)],
      what: 'tags',
      signal,
      op: 'GET tags',
    });
    const body = await res.json();
    for (const t of (Array.isArray(body?.tags) ? body.tags : []) as unknown[]) if (typeof t === 'string' && !tagProblem(t)) tags.add(t);
    try {
      path = nextLink(res.headers.get('link'), res.url);
    } catch {
      throw registryError('PROTOCOL', 'tag list page Link is not a URL', repoCtx(r, 'GET tags'));
    }
  }
  return [...tags].sort();
}

/** A small blob's bytes (at most `maxBytes`), checked against its digest. */
export async function getBlobBytes(transport: Transport, r: Repo, digest: string, signal: AbortSignal, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
  const ctx = repoCtx(r, `GET blob ${digest}`);
  const res = await transport.request({
    host: r.host,
    repository: r.repository,
    method: 'GET',
    path: blobPath(r, digest),
    scopes: [pullScope(r.repository)],
    what: 'blob',
    signal,
    op: ctx.op!,
  });
  const bytes = await res.buffer(maxBytes);
  const got = digestOf(bytes, algorithmOf(digest));
  if (got !== digest) throw registryError('DIGEST_MISMATCH', `blob bytes hash to ${got}`, { ...ctx, details: { digest } });
  return bytes;
}

/** GET a small JSON blob (e.g. an image config), verified against its digest. */
export async function getBlobJson(transport: Transport, r: Repo, digest: string, signal: AbortSignal): Promise<any> {
  const ctx = repoCtx(r, `GET blob ${digest}`);
  const bytes = await getBlobBytes(transport, r, digest, signal);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw registryError('PROTOCOL', 'blob is not JSON', ctx);
  }
}

/** RFC 5988 `Link: <url>; rel="next"` -> path/URL to request next, or undefined. */
export function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m?.[1]) {
      const u = new URL(m[1], base);
      return u.toString();
    }
  }
  return undefined;
}
