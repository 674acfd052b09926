/**
 * Blob transfer: getting one blob into a mirror repository as cheaply as the
 * registry allows.
 *
 *  - HEAD on the mirror: already there -> skip.
 *  - Cross-repo mount from a mirror repository known to hold it (`homes`,
 *    mount-cache.ts: filled by every HEAD/PUT/mount this engine sees, from
 *    the same upstream registry; plus caller hints), or from the repository
 *    another running copy is downloading it into (`downloads`,
 *    blob-dedup.ts: the upstream sends each shared layer once).
 *  - Else stream GET -> PUT (monolithic) through the verifying pass-through
 *    of blobs.ts, which aborts the PUT on a size/digest mismatch. With no
 *    mount to try, the upload session and the upstream GET start together.
 *
 * Transfers are de-duplicated per (mirror repo, digest) across all copies of
 * the owning engine (`blobFlights`) and retried in-process when transient.
 */
import { FerryError } from '../errors.js';
import { pullScope, pushScope } from './auth.js';
import { SharedDownloads, type DownloadClaim } from './blob-dedup.js';
import { MirrorUploads, withQuery } from './blob-upload.js';
import { drain, verifying, type Progress, type VerifyState } from './blobs.js';
import { classifyThrown, registryError, repoCtx } from './errors.js';
import type { Logger } from './logger.js';
import type { Descriptor } from './manifest.js';
import { BlobHomes, NO_ORIGIN } from './mount-cache.js';
import { blobPath } from './paths.js';
import type { RegistryRef } from './ref.js';
import { abandonable, withRetries, type RegistryResponse, type Transport } from './transport/index.js';

export type BlobOutcome = 'copied' | 'skipped' | 'mounted';

type Repo = { host: string; repository: string };

/** One ensureBlob call's share in a cross-repository download (blob-dedup.ts): set once it announced its own. */
interface ShareState {
  claim?: DownloadClaim | undefined;
}

async function* chunksOf(body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const c of body as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class BlobTransfer {
  private readonly uploads: MirrorUploads;
  private readonly homes = new BlobHomes();
  private readonly downloads = new SharedDownloads();
  private readonly blobFlights = new Map<string, Promise<BlobOutcome>>();

  constructor(
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {
    this.uploads = new MirrorUploads(transport, logger);
  }

  /** Forget every known blob home (engine close). In-flight transfers are left to their signals. */
  clearHomes(): void {
    this.homes.clear();
  }

  /** Whether `r` holds `digest`; a hit is remembered as a mount source for copies from `origin` (NO_ORIGIN: none). */
  async headBlob(r: Repo, digest: string, signal: AbortSignal, origin = NO_ORIGIN): Promise<boolean> {
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
    if (res.status === 200) this.homes.remember(r.host, r.repository, digest, origin);
    return res.status === 200;
  }

  /**
   * Repositories of `dst`'s mirror host (not dst's own) to mount `digest`
   * from: the caller's hints first, then the homes filled from `origin`
   * (undefined: any, for a local stream).
   */
  private mountCandidates(dst: Repo, digest: string, origin: string | undefined, hints: string[] = []): string[] {
    const out: string[] = [];
    for (const h of hints) {
      const repo = h.startsWith(`${dst.host}/`) ? h.slice(dst.host.length + 1) : undefined;
      if (repo && repo !== dst.repository && !out.includes(repo)) out.push(repo);
    }
    for (const repo of this.homes.candidates(dst.host, digest, dst.repository, origin)) if (!out.includes(repo)) out.push(repo);
    return out;
  }

  /** One blob source -> mirror with in-process retries; de-duplicated per (mirror repo, digest), and per (mirror host, upstream, digest) across repositories. */
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
    const share: ShareState = {};
    // the announced download (if this call made one) ends with the whole call, retries included
    const flight = this.transferWithRetry(src, dst, desc, progress, counters, hints, share, signal).then(
      (outcome) => {
        share.claim?.settle(true);
        return outcome;
      },
      (e) => {
        share.claim?.settle(false);
        throw e;
      },
    );
    this.blobFlights.set(key, flight);
    flight.then(
      () => this.blobFlights.delete(key),
      () => this.blobFlights.delete(key),
    );
    return flight;
  }

  private transferWithRetry(
    src: RegistryRef,
    dst: RegistryRef,
    desc: Descriptor,
    progress: Progress,
    counters: { bytesCopied: number },
    hints: string[],
    share: ShareState,
    signal: AbortSignal,
  ): Promise<BlobOutcome> {
    const attempt = async () => {
      let streamed = 0;
      try {
        return await this.transferBlob(src, dst, desc, progress, (n) => {
          streamed += n;
          counters.bytesCopied += n;
        }, hints, share, signal);
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

  /**
   * No home known for the blob: when another copy is downloading it from the
   * same upstream into another repository of this mirror, wait for that
   * (with our own signal) and name that repository to mount from; otherwise
   * (or when that download failed) announce our own and return undefined.
   */
  private async afterSharedDownload(src: Repo, dst: Repo, digest: string, share: ShareState, signal: AbortSignal): Promise<string | undefined> {
    const other = share.claim ? undefined : this.downloads.find(dst.host, src.host, digest);
    if (other && other.repository !== dst.repository) {
      this.logger.debug({ host: dst.host, repository: dst.repository, from: other.repository, digest }, 'blob: waiting for the download another copy is making');
      if (await abandonable(other.done, signal, repoCtx(dst))) return other.repository;
    }
    share.claim ??= this.downloads.claim(dst.host, src.host, digest, dst.repository);
    return undefined;
  }

  private getBlob(src: Repo, digest: string, signal: AbortSignal): Promise<RegistryResponse> {
    return this.transport.request({
      host: src.host,
      repository: src.repository,
      method: 'GET',
      path: blobPath(src, digest),
      scopes: [pullScope(src.repository)],
      what: 'blob',
      signal,
      op: `GET blob ${digest}`,
    });
  }

  /** A plain upload session and the upstream GET at once: on a far mirror or upstream, one round trip less than one after the other. */
  private async uploadAndGet(src: Repo, dst: Repo, digest: string, signal: AbortSignal): Promise<{ location: string; res: RegistryResponse }> {
    const [up, got] = await Promise.allSettled([this.uploads.startUpload(dst, undefined, undefined, signal), this.getBlob(src, digest, signal)]);
    if (up.status === 'rejected' || up.value.mounted) {
      if (got.status === 'fulfilled') got.value.dispose();
      if (up.status === 'rejected') throw up.reason;
      throw registryError('PROTOCOL', 'registry mounted a blob that was not asked for', repoCtx(dst));
    }
    const location = up.value.location;
    if (got.status === 'rejected') {
      void this.uploads.cancelUpload(dst, location);
      throw got.reason;
    }
    return { location, res: got.value };
  }

  /** One attempt: skip (HEAD) -> mount (a known home, or another copy's download) -> stream GET -> PUT. */
  private async transferBlob(
    src: RegistryRef,
    dst: RegistryRef,
    desc: Descriptor,
    progress: Progress,
    onStreamed: (n: number) => void,
    hints: string[],
    share: ShareState,
    signal: AbortSignal,
  ): Promise<BlobOutcome> {
    const digest = desc.digest;
    if (await this.headBlob(dst, digest, signal, src.host)) {
      progress.add(desc.size);
      return 'skipped';
    }
    const from = this.mountCandidates(dst, digest, src.host, hints)[0] ?? (await this.afterSharedDownload(src, dst, digest, share, signal));
    let location: string;
    let res: RegistryResponse;
    if (from === undefined) ({ location, res } = await this.uploadAndGet(src, dst, digest, signal));
    else {
      const up = await this.uploads.startUploadOrMount(dst, digest, from, signal);
      if (up.mounted) {
        this.homes.remember(dst.host, dst.repository, digest, src.host);
        progress.add(desc.size);
        return 'mounted';
      }
      // refused (202: a plain upload session instead): our own download, announced for the copies after us
      share.claim ??= this.downloads.claim(dst.host, src.host, digest, dst.repository);
      location = up.location;
      try {
        res = await this.getBlob(src, digest, signal);
      } catch (e) {
        void this.uploads.cancelUpload(dst, location);
        throw e;
      }
    }
    try {
      await this.uploads.putStream(dst, location, res.body(), { digest, size: desc.size }, (n) => {
        onStreamed(n);
        progress.add(n);
      }, signal);
    } finally {
      res.dispose();
    }
    this.homes.remember(dst.host, dst.repository, digest, src.host);
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
      const up = await this.uploads.startUploadOrMount(dst, digest, this.mountCandidates(dst, digest, undefined)[0], signal);
      if (up.mounted) {
        this.homes.remember(dst.host, dst.repository, digest, NO_ORIGIN);
        await drain(src);
        return { digest, size: expect.size ?? -1, skipped: true };
      }
      let n = 0;
      await this.uploads.putStream(dst, up.location, src, { digest, size: expect.size }, (k) => (n += k), signal);
      this.homes.remember(dst.host, dst.repository, digest, NO_ORIGIN);
      return { digest, size: n, skipped: false };
    }
    // digest unknown: stream with PATCH while hashing, then commit with PUT ?digest=
    const up = await this.uploads.startUpload(dst, undefined, undefined, signal);
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
      this.homes.remember(dst.host, dst.repository, digest, NO_ORIGIN);
      return { digest, size: state.size!, skipped: false };
    } catch (e) {
      void this.uploads.cancelUpload(dst, location);
      throw state.error ?? e;
    }
  }
}
