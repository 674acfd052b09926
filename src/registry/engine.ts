/**
 * The copy engine: registry -> mirror, blob by blob, manifests last.
 *
 * copy(src, dst):
 *  1. HEAD source and destination manifests in parallel (2 requests). Same
 *     digest -> `upToDate`, nothing else is sent.
 *  2. GET the source manifest by digest (verified). For an index, apply the
 *     platform filter (decision documented in manifest.ts) and GET each kept
 *     child by digest.
 *  3. Every unique blob, `copy.layerConcurrency` at a time, de-duplicated per
 *     (mirror repo, digest) across all copies of this engine: HEAD on the
 *     mirror (skip), else cross-repo mount from a mirror repository known to
 *     hold it, else stream GET -> PUT (monolithic, chunked) through a
 *     hashing/counting pass-through that aborts the PUT on a mismatch.
 *  4. Child manifests by digest, then the top manifest, exactly as fetched
 *     (or the filtered index), LAST.
 */
import { setMaxListeners } from 'node:events';
import type { FerryConfig } from '../config/types.js';
import { FerryError } from '../errors.js';
import { deleteScope, pullScope, pushScope } from './auth.js';
import { drain, linkSignals, pool, Progress, verifying, type VerifyState } from './blobs.js';
import { classifyThrown, registryError, type ErrorContext } from './errors.js';
import {
  blobsOf,
  filterIndex,
  isImageType,
  isIndexType,
  isSupportedType,
  MANIFEST_ACCEPT,
  manifestMediaType,
  sha256Digest,
  type Descriptor,
} from './manifest.js';
import { manifestRefOf, splitRef, splitRepository, type RegistryRef } from './ref.js';
import { noopLogger, sleep, Transport, type Logger, type RegistryResponse } from './transport.js';

export interface RegistryEngineOptions {
  config: FerryConfig;
  logger?: Logger;
  /** Extra attempts for transient failures of idempotent requests and of each blob transfer (default 2). */
  retries?: number;
  /** Longest Retry-After waited in-process (default 10 s); longer ones surface as FerryError.details.retryAfterMs. */
  maxRetryAfterMs?: number;
  /** Base backoff between in-process retries (default 250 ms, doubling). */
  backoffMs?: number;
}

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface CopyOptions {
  src: string;
  dst: string;
  /** `os/arch[/variant]`; undefined = config.copy.platforms; [] = every platform. */
  platforms?: string[];
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  /** Extra mirror repositories (`host/path`) that may already hold the blobs: tried for cross-repo mount. */
  mountFrom?: string[];
}

export interface CopyResult {
  /** Digest of the manifest now at dst (differs from sourceDigest only when an index was filtered). */
  digest: string;
  mediaType: string;
  /** Sum of the unique blob sizes the image references (0 when upToDate: nothing was read). */
  bytesTotal: number;
  /** Bytes actually streamed source -> mirror. */
  bytesCopied: number;
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  upToDate: boolean;
  /** Platforms of the index children copied; [] for a single-platform manifest or when upToDate. */
  platforms: string[];
  /** Digest of the source manifest (the index before filtering). */
  sourceDigest: string;
  /** True when a new, filtered index was pushed (digest !== sourceDigest). */
  filtered: boolean;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

type BlobOutcome = 'copied' | 'skipped' | 'mounted';

interface Node {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  children: Node[];
}

const MAX_BLOB_HOMES = 200_000;

function repoCtx(r: { host: string; repository: string }, op?: string): ErrorContext {
  return { host: r.host, repository: r.repository, ...(op ? { op } : {}) };
}

function withQuery(url: string, q: string): string {
  return url + (url.includes('?') ? '&' : '?') + q;
}

async function* chunksOf(body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const c of body as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class RegistryEngine {
  private config: FerryConfig;
  private readonly logger: Logger;
  readonly transport: Transport;
  private readonly closing = new AbortController();
  /** digest -> `host/repo` of mirror (and source) repositories seen holding it. */
  private readonly blobHomes = new Map<string, Set<string>>();
  private readonly blobFlights = new Map<string, Promise<BlobOutcome>>();

  constructor(opts: RegistryEngineOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? noopLogger;
    setMaxListeners(0, this.closing.signal);
    this.transport = new Transport(opts.config, this.logger, {
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: opts.maxRetryAfterMs } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    });
  }

  /** Hot reload: credentials, endpoints, limits, timeouts. Cached pings and tokens are dropped. */
  updateConfig(config: FerryConfig): void {
    this.config = config;
    this.transport.updateConfig(config);
  }

  async close(): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.closing.abort(registryError('ABORTED', 'registry engine closed', { host: '-' }));
    }
    this.blobHomes.clear();
    this.transport.close();
  }

  private async run<T>(signal: AbortSignal | undefined, ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const link = linkSignals(signal, this.closing.signal);
    try {
      return await fn(link.signal);
    } catch (e) {
      throw e instanceof FerryError ? e : classifyThrown(e, ctx, link.signal.aborted);
    } finally {
      link.dispose();
    }
  }

  // ---------------------------------------------------------------- manifests

  private async headManifest(r: RegistryRef, signal: AbortSignal): Promise<ManifestInfo | undefined> {
    const ref = manifestRefOf(r);
    const res = await this.transport.request({
      host: r.host,
      repository: r.repository,
      method: 'HEAD',
      path: `/v2/${r.repository}/manifests/${ref}`,
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: [pullScope(r.repository)],
      what: 'manifest',
      expect: [200, 404],
      signal,
      op: `HEAD manifest ${ref}`,
    });
    res.dispose();
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest');
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const size = Number(res.headers.get('content-length') ?? NaN);
    if (digest && isSupportedType(mediaType) && Number.isFinite(size)) return { digest, mediaType, size };
    // no usable headers: GET and hash
    const m = await this.fetchManifest(r, signal, true);
    return m ? { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length } : undefined;
  }

  private async fetchManifest(r: RegistryRef, signal: AbortSignal, allow404: true): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any } | undefined>;
  private async fetchManifest(r: RegistryRef, signal: AbortSignal, allow404?: false): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any }>;
  private async fetchManifest(r: RegistryRef, signal: AbortSignal, allow404 = false) {
    const ref = manifestRefOf(r);
    const ctx = repoCtx(r, `GET manifest ${ref}`);
    const res = await this.transport.request({
      host: r.host,
      repository: r.repository,
      method: 'GET',
      path: `/v2/${r.repository}/manifests/${ref}`,
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: [pullScope(r.repository)],
      what: 'manifest',
      ...(allow404 ? { expect: [200, 404] } : {}),
      signal,
      op: ctx.op!,
    });
    if (res.status === 404) {
      res.dispose();
      return undefined;
    }
    const bytes = await res.buffer(8 * 1024 * 1024);
    let json: any;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw registryError('MANIFEST_INVALID', 'manifest is not JSON', ctx);
    }
    const mediaType = manifestMediaType(res.headers.get('content-type'), json);
    const digest = r.digest?.startsWith('sha256:') || !r.digest ? sha256Digest(bytes) : r.digest;
    if (r.digest && digest !== r.digest) {
      throw registryError('DIGEST_MISMATCH', `manifest bytes hash to ${digest}, expected ${r.digest}`, { ...ctx, details: { digest: r.digest, actualDigest: digest } });
    }
    return { bytes, digest, mediaType, json };
  }

  private async pushManifest(r: RegistryRef, ref: string, bytes: Buffer, mediaType: string, signal: AbortSignal): Promise<string> {
    const res = await this.transport.request({
      host: r.host,
      repository: r.repository,
      method: 'PUT',
      path: `/v2/${r.repository}/manifests/${ref}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: [pushScope(r.repository)],
      what: 'manifest',
      retry: true,
      signal,
      op: `PUT manifest ${ref}`,
    });
    res.dispose();
    return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }

  resolveDigest(ref: string, signal?: AbortSignal): Promise<ManifestInfo | undefined> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => this.headManifest(r, s));
  }

  getManifest(ref: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any }> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => this.fetchManifest(r, s));
  }

  putManifest(ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<{ digest: string }> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), async (s) => {
      const computed = sha256Digest(bytes);
      if (r.digest && r.digest !== computed && r.digest.startsWith('sha256:')) {
        throw registryError('DIGEST_MISMATCH', `manifest bytes hash to ${computed}, reference says ${r.digest}`, repoCtx(r, 'PUT manifest'));
      }
      await this.pushManifest(r, r.tag ?? r.digest ?? computed, bytes, mediaType, s);
      return { digest: computed };
    });
  }

  deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<void> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), async (s) => {
      const res = await this.transport.request({
        host: r.host,
        repository: r.repository,
        method: 'DELETE',
        path: `/v2/${r.repository}/manifests/${digest}`,
        scopes: [deleteScope(r.repository)],
        what: 'manifest',
        expect: [200, 202, 204, 404],
        retry: true,
        signal: s,
        op: `DELETE manifest ${digest}`,
      });
      res.dispose(); // 404: already gone (idempotent)
    });
  }

  listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), async (s) => {
      const tags = new Set<string>();
      let path: string | undefined = `/v2/${r.repository}/tags/list?n=1000`;
      const seen = new Set<string>();
      while (path && !seen.has(path) && seen.size < 10_000) {
        seen.add(path);
        const res: RegistryResponse = await this.transport.request({
          host: r.host,
          repository: r.repository,
          method: 'GET',
          path,
          scopes: [pullScope(r.repository)],
          what: 'tags',
          signal: s,
          op: 'GET tags',
        });
        const body = await res.json();
        for (const t of (body?.tags ?? []) as unknown[]) if (typeof t === 'string') tags.add(t);
        path = nextLink(res.headers.get('link'), res.url);
      }
      return [...tags].sort();
    });
  }

  getBlobJson(repository: string, digest: string, signal?: AbortSignal): Promise<any> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), async (s) => {
      const ctx = repoCtx(r, `GET blob ${digest}`);
      const res = await this.transport.request({
        host: r.host,
        repository: r.repository,
        method: 'GET',
        path: `/v2/${r.repository}/blobs/${digest}`,
        scopes: [pullScope(r.repository)],
        what: 'blob',
        signal: s,
        op: ctx.op!,
      });
      const bytes = await res.buffer(16 * 1024 * 1024);
      if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) {
        throw registryError('DIGEST_MISMATCH', `blob bytes hash to ${sha256Digest(bytes)}`, { ...ctx, details: { digest } });
      }
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw registryError('PROTOCOL', 'blob is not JSON', ctx);
      }
    });
  }

  // -------------------------------------------------------------------- blobs

  private async headBlob(r: { host: string; repository: string }, digest: string, signal: AbortSignal): Promise<boolean> {
    const res = await this.transport.request({
      host: r.host,
      repository: r.repository,
      method: 'HEAD',
      path: `/v2/${r.repository}/blobs/${digest}`,
      scopes: [pullScope(r.repository)],
      what: 'blob',
      expect: [200, 404],
      signal,
      op: `HEAD blob ${digest}`,
    });
    res.dispose();
    if (res.status === 200) this.remember(digest, r);
    return res.status === 200;
  }

  blobExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => this.headBlob(r, digest, s));
  }

  private remember(digest: string, r: { host: string; repository: string }): void {
    let set = this.blobHomes.get(digest);
    if (!set) {
      if (this.blobHomes.size >= MAX_BLOB_HOMES) {
        const oldest = this.blobHomes.keys().next().value;
        if (oldest !== undefined) this.blobHomes.delete(oldest);
      }
      set = new Set();
      this.blobHomes.set(digest, set);
    }
    set.add(`${r.host}/${r.repository}`);
    if (set.size > 16) set.delete(set.values().next().value!);
  }

  /** Mirror repositories (same host, other repo) that may hold `digest`. */
  private mountCandidates(dst: { host: string; repository: string }, digest: string, hints: string[] = []): string[] {
    const out: string[] = [];
    const me = `${dst.host}/${dst.repository}`;
    for (const h of [...hints, ...(this.blobHomes.get(digest) ?? [])]) {
      if (h === me || !h.startsWith(`${dst.host}/`) || out.includes(h)) continue;
      out.push(h);
    }
    return out.map((h) => h.slice(dst.host.length + 1));
  }

  /** POST an upload session, trying a cross-repo mount first. Returns 'mounted' or the upload Location. */
  private async startUpload(dst: { host: string; repository: string }, digest: string | undefined, from: string | undefined, signal: AbortSignal): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const mount = digest && from !== undefined;
    const q = mount ? `?mount=${encodeURIComponent(digest!)}&from=${encodeURIComponent(from!)}` : '';
    const res = await this.transport.request({
      host: dst.host,
      repository: dst.repository,
      method: 'POST',
      path: `/v2/${dst.repository}/blobs/uploads/${q}`,
      scopes: mount ? [pushScope(dst.repository), pullScope(from!)] : [pushScope(dst.repository)],
      what: 'upload',
      expect: [201, 202],
      retry: true,
      signal,
      op: mount ? `mount blob ${digest} from ${from}` : 'start upload',
    });
    res.dispose();
    if (res.status === 201 && mount) return { mounted: true };
    const loc = res.headers.get('location');
    if (!loc) throw registryError('PROTOCOL', 'upload started without a Location header', repoCtx(dst, 'start upload'));
    return { mounted: false, location: new URL(loc, this.transport.endpoint(dst.host) + '/').toString() };
  }

  /** Mount when a candidate exists; a refused mount (e.g. no pull right on `from`) falls back to a plain upload. */
  private async startUploadOrMount(dst: { host: string; repository: string }, digest: string, from: string | undefined, signal: AbortSignal): Promise<{ mounted: true } | { mounted: false; location: string }> {
    if (from === undefined) return this.startUpload(dst, undefined, undefined, signal);
    try {
      return await this.startUpload(dst, digest, from, signal);
    } catch (e) {
      if (signal.aborted || (e instanceof FerryError && e.transient)) throw e;
      this.logger.debug({ host: dst.host, repository: dst.repository, from, digest, code: (e as FerryError).code }, 'mount refused, uploading');
      return this.startUpload(dst, undefined, undefined, signal);
    }
  }

  private async cancelUpload(dst: { host: string; repository: string }, location: string): Promise<void> {
    try {
      const res = await this.transport.request({
        host: dst.host,
        repository: dst.repository,
        method: 'DELETE',
        path: location,
        scopes: [pushScope(dst.repository)],
        what: 'upload',
        expect: [200, 202, 204, 404],
        retry: false,
        signal: AbortSignal.timeout(5000),
        op: 'cancel upload',
      });
      res.dispose();
    } catch (e) {
      this.logger.debug({ host: dst.host, repository: dst.repository, err: (e as Error).message }, 'cancel upload failed');
    }
  }

  /** PUT (monolithic, chunked) the verified stream to `location`. */
  private async putStream(
    dst: { host: string; repository: string },
    location: string,
    src: AsyncIterable<Uint8Array | string>,
    expect: { digest: string; size?: number | undefined },
    onBytes: (n: number) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const ctx = repoCtx(dst, `PUT blob ${expect.digest}`);
    const state: VerifyState = {};
    try {
      const res = await this.transport.request({
        host: dst.host,
        repository: dst.repository,
        method: 'PUT',
        path: withQuery(location, `digest=${encodeURIComponent(expect.digest)}`),
        headers: { 'Content-Type': 'application/octet-stream' },
        body: verifying(src, expect, onBytes, state, ctx),
        scopes: [pushScope(dst.repository)],
        what: 'upload',
        expect: [201, 204],
        retry: false,
        signal,
        op: ctx.op!,
      });
      res.dispose();
    } catch (e) {
      void this.cancelUpload(dst, location);
      throw state.error ?? e;
    }
    this.remember(expect.digest, dst);
  }

  /** One blob source -> mirror with in-process retries; de-duplicated per (mirror repo, digest). */
  private ensureBlob(src: RegistryRef, dst: RegistryRef, desc: Descriptor, progress: Progress, counters: { bytesCopied: number }, hints: string[], signal: AbortSignal): Promise<BlobOutcome> {
    const key = `${dst.host}/${dst.repository}@${desc.digest}`;
    const existing = this.blobFlights.get(key);
    if (existing) {
      return existing.then(
        () => {
          progress.add(desc.size);
          return 'skipped' as const;
        },
        (e) => {
          // the other copy failed or was cancelled: try on our own
          if (signal.aborted) throw e;
          return this.ensureBlob(src, dst, desc, progress, counters, hints, signal);
        },
      );
    }
    const flight = this.transferWithRetry(src, dst, desc, progress, counters, hints, signal);
    this.blobFlights.set(key, flight);
    flight.then(
      () => this.blobFlights.delete(key),
      () => this.blobFlights.delete(key),
    );
    return flight;
  }

  private async transferWithRetry(src: RegistryRef, dst: RegistryRef, desc: Descriptor, progress: Progress, counters: { bytesCopied: number }, hints: string[], signal: AbortSignal): Promise<BlobOutcome> {
    for (let attempt = 0; ; attempt++) {
      let streamed = 0;
      try {
        return await this.transferBlob(src, dst, desc, progress, (n) => {
          streamed += n;
          counters.bytesCopied += n;
        }, hints, signal);
      } catch (e) {
        const fe = e instanceof FerryError ? e : classifyThrown(e, repoCtx(dst), signal.aborted);
        counters.bytesCopied -= streamed;
        progress.done -= streamed;
        if (!fe.transient || signal.aborted || attempt >= this.transport.retries || fe.code === 'FERRY_ERR_REGISTRY_ABORTED') throw fe;
        const ra = fe.details?.retryAfterMs as number | undefined;
        if (ra !== undefined && ra > this.transport.maxRetryAfterMs) throw fe;
        this.logger.debug({ digest: desc.digest, code: fe.code, attempt: attempt + 1 }, 'blob transfer retry');
        await sleep(ra ?? this.transport.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5), signal);
      }
    }
  }

  private async transferBlob(src: RegistryRef, dst: RegistryRef, desc: Descriptor, progress: Progress, onStreamed: (n: number) => void, hints: string[], signal: AbortSignal): Promise<BlobOutcome> {
    const digest = desc.digest;
    if (await this.headBlob(dst, digest, signal)) {
      progress.add(desc.size);
      return 'skipped';
    }
    const up = await this.startUploadOrMount(dst, digest, this.mountCandidates(dst, digest, hints)[0], signal);
    if (up.mounted) {
      this.remember(digest, dst);
      progress.add(desc.size);
      return 'mounted';
    }
    const location = up.location;
    let res: RegistryResponse;
    try {
      res = await this.transport.request({
        host: src.host,
        repository: src.repository,
        method: 'GET',
        path: `/v2/${src.repository}/blobs/${digest}`,
        scopes: [pullScope(src.repository)],
        what: 'blob',
        signal,
        op: `GET blob ${digest}`,
      });
    } catch (e) {
      void this.cancelUpload(dst, location);
      throw e;
    }
    try {
      await this.putStream(dst, location, res.body(), { digest, size: desc.size }, (n) => {
        onStreamed(n);
        progress.add(n);
      }, signal);
    } finally {
      res.dispose();
    }
    this.remember(digest, src);
    return 'copied';
  }

  pushBlob(
    repository: string,
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    expect: { digest?: string; size?: number } = {},
    signal?: AbortSignal,
  ): Promise<{ digest: string; size: number; skipped: boolean }> {
    const dst = splitRepository(repository);
    return this.run(signal, repoCtx(dst), async (s) => {
      const src = chunksOf(body);
      if (expect.digest) {
        const digest = expect.digest;
        if (await this.headBlob(dst, digest, s)) {
          await drain(src);
          return { digest, size: expect.size ?? -1, skipped: true };
        }
        const up = await this.startUploadOrMount(dst, digest, this.mountCandidates(dst, digest)[0], s);
        if (up.mounted) {
          this.remember(digest, dst);
          await drain(src);
          return { digest, size: expect.size ?? -1, skipped: true };
        }
        let n = 0;
        await this.putStream(dst, up.location, src, { digest, size: expect.size }, (k) => (n += k), s);
        return { digest, size: n, skipped: false };
      }
      // digest unknown: stream with PATCH while hashing, then commit with PUT ?digest=
      const up = await this.startUpload(dst, undefined, undefined, s);
      if (up.mounted) throw registryError('PROTOCOL', 'registry mounted a blob that was not asked for', repoCtx(dst));
      const ctx = repoCtx(dst, 'PATCH blob');
      const state: VerifyState = {};
      let location = up.location;
      try {
        const res = await this.transport.request({
          host: dst.host,
          repository: dst.repository,
          method: 'PATCH',
          path: location,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: verifying(src, { size: expect.size }, () => undefined, state, ctx),
          scopes: [pushScope(dst.repository)],
          what: 'upload',
          expect: [202, 204],
          retry: false,
          signal: s,
          op: ctx.op!,
        });
        res.dispose();
        const loc = res.headers.get('location');
        if (loc) location = new URL(loc, this.transport.endpoint(dst.host) + '/').toString();
        const digest = state.digest!;
        const put = await this.transport.request({
          host: dst.host,
          repository: dst.repository,
          method: 'PUT',
          path: withQuery(location, `digest=${encodeURIComponent(digest)}`),
          headers: { 'Content-Type': 'application/octet-stream' },
          body: Buffer.alloc(0),
          scopes: [pushScope(dst.repository)],
          what: 'upload',
          expect: [201, 204],
          retry: false,
          signal: s,
          op: `PUT blob ${digest}`,
        });
        put.dispose();
        this.remember(digest, dst);
        return { digest, size: state.size!, skipped: false };
      } catch (e) {
        void this.cancelUpload(dst, location);
        throw state.error ?? e;
      }
    });
  }

  // --------------------------------------------------------------------- copy

  copy(opts: CopyOptions): Promise<CopyResult> {
    const src = splitRef(opts.src);
    const dst = splitRef(opts.dst);
    return this.run(opts.signal, repoCtx(dst), (s) => this.doCopy(src, dst, opts, s));
  }

  private async doCopy(src: RegistryRef, dst: RegistryRef, opts: CopyOptions, signal: AbortSignal): Promise<CopyResult> {
    const t0 = performance.now();
    const progress = new Progress(opts.onProgress);
    const pinned = !!src.digest || !!dst.digest;
    const platforms = opts.platforms ?? this.config.copy.platforms;
    const dstHeadRef: RegistryRef = dst.tag ? { host: dst.host, repository: dst.repository, tag: dst.tag } : dst;

    // 1. HEAD source + destination in parallel
    const [srcHead, dstHead] = await Promise.all([
      src.digest ? Promise.resolve(undefined) : this.headManifest(src, signal),
      this.headManifest(dstHeadRef, signal),
    ]);
    if (!src.digest && !srcHead) {
      throw registryError('MANIFEST_UNKNOWN', `manifest ${manifestRefOf(src)} not found`, repoCtx(src, 'HEAD manifest'));
    }
    const sourceDigest = src.digest ?? srcHead!.digest;
    const base = { bytesTotal: 0, bytesCopied: 0, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, sourceDigest };
    if (dstHead && dstHead.digest === sourceDigest) {
      progress.final();
      return { ...base, digest: sourceDigest, mediaType: dstHead.mediaType, upToDate: true, platforms: [], filtered: false };
    }

    // 2. source manifest by digest, plan
    const srcByDigest: RegistryRef = { host: src.host, repository: src.repository, digest: sourceDigest };
    const top = await this.fetchManifest(srcByDigest, signal);
    if (!isSupportedType(top.mediaType)) {
      throw registryError('UNSUPPORTED_MEDIA_TYPE', `manifest media type ${top.mediaType}`, repoCtx(src, 'GET manifest'));
    }
    const blobs = new Map<string, Descriptor>();
    let root: Node;
    let copiedPlatforms: string[] = [];
    let filtered = false;
    if (isIndexType(top.mediaType)) {
      const f = filterIndex(top.bytes, top.json, platforms, pinned);
      if (f.kept.length === 0) {
        throw registryError('NO_MATCHING_PLATFORM', `no child for ${platforms.join(', ')} (index has ${f.available.join(', ') || 'none'})`, {
          ...repoCtx(src, 'filter index'),
          details: { wanted: platforms, available: f.available },
        });
      }
      copiedPlatforms = f.platforms;
      filtered = f.filtered;
      if (filtered && dstHead?.digest === f.digest) {
        progress.final();
        return { ...base, digest: f.digest, mediaType: top.mediaType, upToDate: true, platforms: f.platforms, filtered: true };
      }
      root = { digest: f.digest, mediaType: top.mediaType, bytes: f.bytes, children: [] };
      root.children = await this.loadChildren(src, f.kept, blobs, signal);
    } else {
      root = { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes, children: [] };
      for (const b of blobsOf(top.json)) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
    }

    // 3. blobs
    progress.total = [...blobs.values()].reduce((a, b) => a + (b.size > 0 ? b.size : 0), 0);
    const counters = { bytesCopied: 0, copied: 0, skipped: 0, mounted: 0 };
    const hints = [...(opts.mountFrom ?? [])];
    if (src.host === dst.host && src.repository !== dst.repository) hints.push(`${src.host}/${src.repository}`);
    await pool([...blobs.values()], Math.max(1, this.config.copy.layerConcurrency), signal, async (desc, s) => {
      const outcome = await this.ensureBlob(src, dst, desc, progress, counters, hints, s);
      counters[outcome]++;
    });

    // 4. manifests last: children (post-order, by digest), then the top one
    const pushTree = async (n: Node): Promise<void> => {
      await Promise.all(n.children.map((c) => pushTree(c)));
      if (n !== root) await this.pushManifest(dst, n.digest, n.bytes, n.mediaType, signal);
    };
    await pushTree(root);
    await this.pushManifest(dst, dst.tag ?? root.digest, root.bytes, root.mediaType, signal);
    progress.final();
    const result: CopyResult = {
      digest: root.digest,
      mediaType: root.mediaType,
      bytesTotal: progress.total,
      bytesCopied: counters.bytesCopied,
      blobsCopied: counters.copied,
      blobsSkipped: counters.skipped,
      blobsMounted: counters.mounted,
      upToDate: false,
      platforms: copiedPlatforms,
      sourceDigest,
      filtered,
    };
    this.logger.info(
      { src: `${src.host}/${src.repository}`, dst: `${dst.host}/${dst.repository}`, digest: result.digest, bytesCopied: result.bytesCopied, ms: Math.round(performance.now() - t0) },
      'image copied',
    );
    return result;
  }

  /** GETs children by digest (nested indexes recurse, unfiltered) and collects their blobs. */
  private async loadChildren(src: RegistryRef, kept: Descriptor[], blobs: Map<string, Descriptor>, signal: AbortSignal, depth = 0): Promise<Node[]> {
    if (depth > 4) throw registryError('MANIFEST_INVALID', 'index nesting too deep', repoCtx(src));
    const nodes: Node[] = new Array(kept.length);
    await pool(kept.map((d, i) => [d, i] as const), 8, signal, async ([d, i], s) => {
      const m = await this.fetchManifest({ host: src.host, repository: src.repository, digest: d.digest }, s);
      const node: Node = { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes, children: [] };
      if (isIndexType(m.mediaType)) {
        node.children = await this.loadChildren(src, (m.json?.manifests ?? []) as Descriptor[], blobs, s, depth + 1);
      } else if (isImageType(m.mediaType)) {
        for (const b of blobsOf(m.json)) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
      } else {
        throw registryError('UNSUPPORTED_MEDIA_TYPE', `child manifest ${d.digest} has media type ${m.mediaType}`, repoCtx(src));
      }
      nodes[i] = node;
    });
    return nodes;
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
