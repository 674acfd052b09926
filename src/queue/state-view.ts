import { isAvailable, type ImageView } from './record.js';
import type { RecordFeed } from './record-feed.js';
import { DigestAliases } from './digest-aliases.js';

export type { ImageView };

/**
 * The webhook's view of image states: a read of the process's RecordFeed
 * (in memory, kept current over pub/sub), so an admission never makes a
 * Redis round trip, plus a local echo of what this process just enqueued.
 */
export class StateView {
  /** Refs this process enqueued that Redis has not told about yet. */
  private readonly echo = new Map<string, ImageView>();
  /** The mirror and upstream digests of filtered indexes, for block rules and ferry's copy named by digest. */
  private readonly aliases: DigestAliases;

  constructor(private readonly feed: RecordFeed) {
    this.aliases = DigestAliases.follow(feed);
    feed.on('event', (ev) => this.echo.delete(ev.ref));
    feed.on('reloaded', () => this.echo.clear());
  }

  get isReady(): boolean {
    return this.feed.loaded;
  }

  get size(): number {
    return this.feed.size;
  }

  get(ref: string): ImageView | undefined {
    return this.feed.get(ref) ?? this.echo.get(ref);
  }

  /** The other digests of `digest` (a filtered index's upstream digest for its mirror digest, and back). */
  digestAliases(digest: string): string[] {
    return this.aliases.of(digest);
  }

  isAvailable(ref: string): boolean {
    return isAvailable(this.get(ref));
  }

  /** Local echo: what this process just enqueued is `queued` before Redis says so. */
  noteQueued(ref: string): void {
    if (!this.feed.get(ref)) this.echo.set(ref, { state: 'queued', digest: null, mirroredAt: null, blockedReason: null });
  }
}
