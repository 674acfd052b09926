/**
 * Source-side de-duplication across concurrent copies of one engine: when
 * several copies at the same time need the same upstream blob for DIFFERENT
 * repositories of the same mirror host, the first one downloads it and the
 * others wait for that transfer, then cross-repository mount it from the
 * first one's repository (blob-transfer.ts; a refused mount or a failed first
 * transfer sends them back to a download of their own). Copies into the SAME
 * repository are joined one level up (BlobTransfer's per-repository flights).
 *
 * Keyed by mirror host + origin (the upstream host: a blob is never shared
 * across upstream registries, mount-cache.ts says why) + digest. The map is
 * bounded (past MAX_SHARED_DOWNLOADS a copy simply downloads on its own) and
 * an entry lives exactly as long as its download: settled on success,
 * failure or abort. A waiter waits with its own signal only, so cancelling it
 * never touches the transfer the others wait for.
 *
 * No I/O.
 */

/** Downloads announced at once, at most. */
export const MAX_SHARED_DOWNLOADS = 4096;

export interface RunningDownload {
  /** Mirror repository the blob is being written to. */
  repository: string;
  /** true once the blob is in `repository`; false when that transfer failed or was cancelled. Never rejects. */
  done: Promise<boolean>;
}

/** The right to be the one download of a blob: settle it exactly when that download is over. */
export interface DownloadClaim {
  /** Idempotent; frees the entry. */
  settle(ok: boolean): void;
}

export class SharedDownloads {
  private readonly running = new Map<string, RunningDownload>();

  constructor(private readonly max = MAX_SHARED_DOWNLOADS) {}

  get size(): number {
    return this.running.size;
  }

  private static key(host: string, origin: string, digest: string): string {
    return `${host} ${origin} ${digest}`;
  }

  /** The download of `digest` from `origin` into mirror `host` now running, if any. */
  find(host: string, origin: string, digest: string): RunningDownload | undefined {
    return this.running.get(SharedDownloads.key(host, origin, digest));
  }

  /** Announces a download into `host/repository`; undefined when one is already running or the map is full. */
  claim(host: string, origin: string, digest: string, repository: string): DownloadClaim | undefined {
    const key = SharedDownloads.key(host, origin, digest);
    if (this.running.has(key) || this.running.size >= this.max) return undefined;
    let resolve!: (ok: boolean) => void;
    const entry: RunningDownload = { repository, done: new Promise<boolean>((r) => (resolve = r)) };
    this.running.set(key, entry);
    let settled = false;
    return {
      settle: (ok) => {
        if (settled) return;
        settled = true;
        if (this.running.get(key) === entry) this.running.delete(key);
        resolve(ok);
      },
    };
  }
}
