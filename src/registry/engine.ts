/**
 * RegistryEngine: the public facade. It owns the Transport, the close signal
 * and the BlobTransfer state shared by every copy, and wires the pieces:
 *
 *  - copy.ts          the copy pipeline (resolve -> plan -> ensure blobs -> push manifests)
 *  - blob-transfer.ts skip / mount / verified stream of one blob, de-duplicated
 *  - manifest-io.ts   manifest, tag and config-blob requests
 *
 * Every public method takes references as strings, parsed by src/reference's
 * grammar (ref.ts), links the caller's signal with the engine's close
 * signal and turns anything thrown into a classified FerryError (`run`): a
 * reference that does not parse is a rejected promise too.
 */
import { setMaxListeners } from 'node:events';
import type { FerryConfig } from '../config/types.js';
import { FerryError } from '../errors.js';
import { BlobTransfer } from './blob-transfer.js';
import { copyImage, type CopyDeps, type CopyOptions, type CopyResult } from './copy.js';
import { classifyThrown, registryError, repoCtx, type ErrorContext } from './errors.js';
import { linkedSignal } from '../async/index.js';
import { noopLogger, type Logger } from './logger.js';
import { deleteManifest, fetchManifest, getBlobBytes, getBlobJson, headManifest, listTags, putManifest, type ManifestInfo } from './manifest-io.js';
import { copyReferrers, type CopyReferrersOptions, type CopyReferrersResult } from './referrers.js';
import { splitRef, splitRepository } from './ref.js';
import { SparseIndexSupport } from './sparse-index.js';
import { countRequests } from './request-count.js';
import { Transport } from './transport/index.js';

export type { CopyOptions, CopyProgress, CopyResult } from './copy.js';
export type { ManifestInfo } from './manifest-io.js';
export type { CopyReferrersOptions, CopyReferrersResult, FoundReferrer, ReferrerVia } from './referrers.js';
export { nextLink } from './manifest-io.js';

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

export class RegistryEngine {
  private config: FerryConfig;
  private readonly logger: Logger;
  readonly transport: Transport;
  private readonly closing = new AbortController();
  private readonly blobs: BlobTransfer;
  private readonly copyDeps: CopyDeps;

  constructor(opts: RegistryEngineOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? noopLogger;
    setMaxListeners(0, this.closing.signal);
    this.transport = new Transport(opts.config, this.logger, {
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: opts.maxRetryAfterMs } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    });
    this.blobs = new BlobTransfer(this.transport, this.logger);
    this.copyDeps = { transport: this.transport, blobs: this.blobs, logger: this.logger, config: () => this.config, sparseIndexes: new SparseIndexSupport() };
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
    this.blobs.clearHomes();
    this.transport.close();
  }

  private async run<T>(signal: AbortSignal | undefined, ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const link = linkedSignal(signal, this.closing.signal);
    try {
      return await fn(link.signal);
    } catch (e) {
      throw e instanceof FerryError ? e : classifyThrown(e, ctx, link.signal.aborted);
    } finally {
      link.dispose();
    }
  }

  // ---------------------------------------------------------------- manifests

  /**
   * Before many reads from the same registries (a refresh run): one Bearer
   * token per host for all the references' repositories, which their
   * requests then find cached, instead of one token request per repository.
   * Best effort: nothing is thrown; a request whose token lacks its scope
   * gets a 401 and asks for its own.
   */
  async prepareReads(refs: string[], signal?: AbortSignal): Promise<void> {
    const byHost = new Map<string, Set<string>>();
    for (const ref of refs) {
      const r = splitRef(ref);
      let scopes = byHost.get(r.host);
      if (!scopes) byHost.set(r.host, (scopes = new Set()));
      scopes.add(`repository:${r.repository}:pull`);
    }
    await Promise.all([...byHost].filter(([, s]) => s.size > 1).map(([host, scopes]) => this.transport.prepareTokens(host, [...scopes], signal)));
  }

  async resolveDigest(ref: string, signal?: AbortSignal): Promise<ManifestInfo | undefined> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => headManifest(this.transport, r, s));
  }

  async getManifest(ref: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any }> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => fetchManifest(this.transport, r, s));
  }

  /** Like getManifest, but undefined when the registry has no such manifest (404). */
  async findManifest(ref: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any } | undefined> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => fetchManifest(this.transport, r, s, true));
  }

  async putManifest(ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<{ digest: string }> {
    const r = splitRef(ref);
    return this.run(signal, repoCtx(r), (s) => putManifest(this.transport, r, bytes, mediaType, s));
  }

  /** Deletes a manifest by digest (the registry drops the tags on it); false when it was not there. */
  async deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => deleteManifest(this.transport, r, digest, s));
  }

  async listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => listTags(this.transport, r, s));
  }

  /** A small blob's bytes (signature payloads and the like), refused past `maxBytes`. */
  async getBlobBytes(repository: string, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => getBlobBytes(this.transport, r, digest, s, maxBytes));
  }

  async getBlobJson(repository: string, digest: string, signal?: AbortSignal): Promise<any> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => getBlobJson(this.transport, r, digest, s));
  }

  // -------------------------------------------------------------------- blobs

  async blobExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const r = splitRepository(repository);
    return this.run(signal, repoCtx(r), (s) => this.blobs.headBlob(r, digest, s));
  }

  async pushBlob(
    repository: string,
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    expect: { digest?: string; size?: number } = {},
    signal?: AbortSignal,
  ): Promise<{ digest: string; size: number; skipped: boolean }> {
    const dst = splitRepository(repository);
    return this.run(signal, repoCtx(dst), (s) => this.blobs.pushStream(dst, body, expect, s));
  }

  // --------------------------------------------------------------------- copy

  async copy(opts: CopyOptions): Promise<CopyResult> {
    const src = splitRef(opts.src);
    const dst = splitRef(opts.dst);
    return this.run(opts.signal, repoCtx(dst), (s) => copyImage(this.copyDeps, src, dst, opts, s));
  }

  /**
   * Referrers (cosign tags, OCI 1.1 referrers via the API or the fallback
   * tag) of `opts.digests` in `opts.src`, copied byte for byte into
   * `opts.dst`, recursively (referrers.ts). Not part of `copy`: the caller
   * passes the digests a copy moved (top + children).
   */
  async copyReferrers(opts: CopyReferrersOptions): Promise<CopyReferrersResult> {
    const src = splitRepository(opts.src);
    const dst = splitRepository(opts.dst);
    return this.run(opts.signal, repoCtx(dst), async (s) => {
      const { value, requests } = await countRequests(() => copyReferrers(this.copyDeps, src, dst, opts, s));
      return { ...value, requests };
    });
  }
}
