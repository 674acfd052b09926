/**
 * Blob transfer: getting one blob into a mirror repository as cheaply as the
 * registry allows.
 *
 *  - HEAD on the mirror: already there -> skip.
 *  - Cross-repo mount from a mirror repository known to hold it (`blobHomes`,
 *    filled by every HEAD/PUT/mount this engine sees, plus caller hints).
 *  - Else stream GET -> PUT (monolithic, chunked) through the verifying
 *    pass-through of blobs.ts, which aborts the PUT on a size/digest mismatch.
 *
 * Transfers are de-duplicated per (mirror repo, digest) across all copies of
 * the owning engine (`blobFlights`) and retried in-process when transient.
 */
import { FerryError } from '../errors.js';
import { pullScope, pushScope } from './auth.js';
import { drain, verifying, type Progress, type VerifyState } from './blobs.js';
import { classifyThrown, registryError, repoCtx } from './errors.js';
import type { Logger } from './logger.js';
import type { Descriptor } from './manifest.js';
import { blobPath, checkDigest, uploadsPath } from './paths.js';
import type { RegistryRef } from './ref.js';
import { abandonable, withRetries, type RegistryResponse, type Transport } from './transport/index.js';

export type BlobOutcome = 'copied' | 'skipped' | 'mounted';

type Repo = { host: string; repository: string };

type UploadStart = { mounted: true } | { mounted: false; location: string };

const MAX_BLOB_HOMES = 200_000;

function withQuery(url: string, q: string): string {
  return url + (url.includes('?') ? '&' : '?') + q;
}

async function* chunksOf(body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const c of body as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class BlobTransfer {
  /** digest -> `host/repo` of mirror (and source) repositories seen holding it. */
  private readonly blobHomes = new Map<string, Set<string>>();
  private readonly blobFlights = new Map<string, Promise<BlobOutcome>>();

  constructor(
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /** Forget every known blob home (engine close). In-flight transfers are left to their signals. */
  clearHomes(): void {
    this.blobHomes.clear();
  }

  async headBlob(r: Repo, digest: string, signal: AbortSignal): Promise<boolean> {
    const res = await this.transport.request({
      host: r.host,
      repository: r.repository,
      method: 'HEAD',
      path: blobPath(r, digest),
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

  private remember(digest: string, r: Repo): void {
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
  private mountCandidates(dst: Repo, digest: string, hints: string[] = []): string[] {
    const out: string[] = [];
    const me = `${dst.host}/${dst.repository}`;
    for (const h of [...hints, ...(this.blobHomes.get(digest) ?? [])]) {
      if (h === me || !h.startsWith(`${dst.host}/`) || out.includes(h)) continue;
      out.push(h);
    }
    return out.map((h) => h.slice(dst.host.length + 1));
  }

  /** POST an upload session, trying a cross-repo mount first. Returns 'mounted' or the upload Location. */
  private async startUpload(dst: Repo, digest: string | undefined, from: string | undefined, signal: AbortSignal): Promise<UploadStart> {
    const mount = digest && from !== undefined;
    const res = await this.transport.request({
      host: dst.host,
      repository: dst.repository,
      method: 'POST',
      path: uploadsPath(dst, mount ? { digest: digest!, from: from! } : undefined),
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
  private async startUploadOrMount(dst: Repo, digest: string, from: string | undefined, signal: AbortSignal): Promise<UploadStart> {
    if (from === undefined) return this.startUpload(dst, undefined, undefined, signal);
    try {
      return await this.startUpload(dst, digest, from, signal);
    } catch (e) {
      if (signal.aborted || (e instanceof FerryError && e.transient)) throw e;
      this.logger.debug({ host: dst.host, repository: dst.repository, from, digest, code: (e as FerryError).code }, 'mount refused, uploading');
      return this.startUpload(dst, undefined, undefined, signal);
    }
  }

  private async cancelUpload(dst: Repo, location: string): Promise<void> {
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
    dst: Repo,
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
        path: withQuery(location, `digest=${encodeURIComponent(checkDigest(expect.digest, dst, 'caller'))}`),
        // A known size goes as Content-Length: one write per chunk instead of chunked framing
        // (three), which on loopback halves the sender's CPU; `verifying` keeps it safe.
        headers: { 'Content-Type': 'application/octet-stream', ...(expect.size !== undefined ? { 'Content-Length': String(expect.size) } : {}) },
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
  ensureBlob(src: RegistryRef, dst: RegistryRef, desc: Descriptor, progress: Progress, counters: { bytesCopied: number }, hints: string[], signal: AbortSignal): Promise<BlobOutcome> {
    const key = `${dst.host}/${dst.repository}@${desc.digest}`;
    const existing = this.blobFlights.get(key);
    if (existing) {
      // wait with our own signal: our cancellation abandons our wait, not the other copy's transfer
      return abandonable(existing, signal, repoCtx(dst)).then(
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

  private transferWithRetry(src: RegistryRef, dst: RegistryRef, desc: Descriptor, progress: Progress, counters: { bytesCopied: number }, hints: string[], signal: AbortSignal): Promise<BlobOutcome> {
    const attempt = async () => {
      let streamed = 0;
      try {
        return await this.transferBlob(src, dst, desc, progress, (n) => {
          streamed += n;
          counters.bytesCopied += n;
        }, hints, signal);
      } catch (e) {
        const fe = e instanceof FerryError ? e : classifyThrown(e, repoCtx(dst), signal.aborted);
        // a failed attempt's bytes are not copied: the next attempt streams them again
        counters.bytesCopied -= streamed;
        progress.done -= streamed;
        throw fe;
      }
    };
    return withRetries(this.transport, signal, attempt, (fe, n) => this.logger.debug({ digest: desc.digest, code: fe.code, attempt: n }, 'blob transfer retry'));
  }

  /** One attempt: skip (HEAD) -> mount -> stream GET -> PUT. */
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
        path: blobPath(src, digest),
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

  /**
   * Upload a local stream (e.g. a tar entry) to `dst`. With a known digest:
   * skip/mount like a copy (draining the body so the caller can move on), else
   * a verified PUT. Digest unknown: PATCH while hashing, then commit with PUT ?digest=.
   */
  async pushStream(
    dst: Repo,
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    expect: { digest?: string; size?: number },
    signal: AbortSignal,
  ): Promise<{ digest: string; size: number; skipped: boolean }> {
    const src = chunksOf(body);
    if (expect.digest) {
      const digest = expect.digest;
      if (await this.headBlob(dst, digest, signal)) {
        await drain(src);
        return { digest, size: expect.size ?? -1, skipped: true };
      }
      const up = await this.startUploadOrMount(dst, digest, this.mountCandidates(dst, digest)[0], signal);
      if (up.mounted) {
        this.remember(digest, dst);
        await drain(src);
        return { digest, size: expect.size ?? -1, skipped: true };
      }
      let n = 0;
      await this.putStream(dst, up.location, src, { digest, size: expect.size }, (k) => (n += k), signal);
      return { digest, size: n, skipped: false };
    }
    // digest unknown: stream with PATCH while hashing, then commit with PUT ?digest=
    const up = await this.startUpload(dst, undefined, undefined, signal);
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
        signal,
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
        signal,
        op: `PUT blob ${digest}`,
      });
      put.dispose();
      this.remember(digest, dst);
      return { digest, size: state.size!, skipped: false };
    } catch (e) {
      void this.cancelUpload(dst, location);
      throw state.error ?? e;
    }
  }
}
