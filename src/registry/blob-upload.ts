/**
 * Upload sessions on a mirror repository: start one (optionally as a
 * cross-repository mount: 201 mounted, 202 a plain session instead), PUT a
 * verified stream into it (monolithic), cancel it. The requests only: which
 * blob goes where, and when, is blob-transfer.ts's business.
 */
import { FerryError } from '../errors.js';
import { pullScope, pushScope } from './auth.js';
import { verifying, type VerifyState } from './blobs.js';
import { registryError, repoCtx } from './errors.js';
import type { Logger } from './logger.js';
import { checkDigest, uploadsPath } from './paths.js';
import type { Transport } from './transport/index.js';

type Repo = { host: string; repository: string };

export type UploadStart = { mounted: true } | { mounted: false; location: string };

export function withQuery(url: string, q: string): string {
  return url + (url.includes('?') ? '&' : '?') + q;
}

export class MirrorUploads {
  constructor(
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /** POST an upload session, trying a cross-repo mount first. Returns 'mounted' or the upload Location. */
  async startUpload(dst: Repo, digest: string | undefined, from: string | undefined, signal: AbortSignal): Promise<UploadStart> {
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
  async startUploadOrMount(dst: Repo, digest: string, from: string | undefined, signal: AbortSignal): Promise<UploadStart> {
    if (from === undefined) return this.startUpload(dst, undefined, undefined, signal);
    try {
      return await this.startUpload(dst, digest, from, signal);
    } catch (e) {
      if (signal.aborted || (e instanceof FerryError && e.transient)) throw e;
      this.logger.debug({ host: dst.host, repository: dst.repository, from, digest, code: (e as FerryError).code }, 'mount refused, uploading');
      return this.startUpload(dst, undefined, undefined, signal);
    }
  }

  async cancelUpload(dst: Repo, location: string): Promise<void> {
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
  async putStream(
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
  }
}
