import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import type { ImageEvent, ImageRecord, RecordFeed } from '../queue/index.js';
import { ImageIndex } from './image-index.js';
import { Throughput } from './throughput.js';

export interface LiveOptions {
  /** The process's image records (shared with other roles; started and closed by its owner). */
  feed: RecordFeed;
  logger: Logger;
  /** SSE comment every N ms so proxies keep the stream open and clients notice a dead one. */
  heartbeatMs?: number;
  /** How often a `stats` event is pushed to SSE clients (only while some are connected). */
  statsMs?: number;
  /** Builds the `stats` payload (counts, queue, throughput). */
  stats: () => Promise<unknown>;
  now?: () => number;
  /**
   * Bytes a client may have waiting in its response buffer (default 1 MiB).
   * State events are never skipped for a congested client, so past this the
   * client is dropped: EventSource reconnects by itself and its `hello`
   * brings it back in step (the page refetches).
   */
  maxBufferedBytes?: number;
}

export const DEFAULT_SSE_MAX_BUFFERED_BYTES = 1024 * 1024;

/** What `Live` emits as `'dropped'` when a client that stopped reading is cut off. */
export interface DroppedClient {
  /** Bytes that were waiting in that client's buffer (freed with it). */
  bufferedBytes: number;
  maxBufferedBytes: number;
}

interface Client {
  res: ServerResponse;
  /** The socket buffer is full: progress ticks are dropped for this client until it drains (state changes never are). */
  congested: boolean;
}

/**
 * The dashboard's live side, over the process's RecordFeed: the image index
 * and the throughput window follow its events, and every event is relayed
 * to all Server-Sent-Events clients.
 */
export class Live extends EventEmitter {
  readonly index: ImageIndex;
  readonly throughput: Throughput;
  private readonly clients = new Set<Client>();
  private seq = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private statsBusy = false;
  private closed = false;
  private dropped = 0;
  private readonly maxBuffered: number;

  constructor(private readonly o: LiveOptions) {
    super();
    this.maxBuffered = o.maxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES;
    this.throughput = new Throughput(o.now);
    this.index = new ImageIndex(o.feed);
    o.feed.on('event', this.relay);
    o.feed.on('reloaded', this.resync);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients cut off since start because they stopped reading (see `maxBufferedBytes`). */
  get droppedClients(): number {
    return this.dropped;
  }

  /** Events subscribed and the index loaded at least once. */
  get ready(): boolean {
    return this.o.feed.ready;
  }

  /** Starts the heartbeat and stats timers and the feed; resolves once the records are loaded. */
  start(): Promise<void> {
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.writeAll(`: heartbeat ${new Date().toISOString()}\n\n`), this.o.heartbeatMs ?? 15_000);
      this.heartbeat.unref();
      this.statsTimer = setInterval(() => void this.pushStats(), this.o.statsMs ?? 2000);
      this.statsTimer.unref();
    }
    return this.o.feed.start();
  }

  /** Re-reads every record (the old contents are served meanwhile). */
  async reload(): Promise<void> {
    const t0 = Date.now();
    try {
      await this.o.feed.reload();
      this.o.logger.debug({ records: this.o.feed.size, ms: Date.now() - t0 }, 'dashboard image index loaded');
    } catch (e) {
      this.o.logger.warn({ err: describeError(e) }, 'dashboard could not load image records; serving what it has');
      throw e;
    }
  }

  /** True once the index was loaded; false if that did not happen within `timeoutMs`. */
  whenLoaded(timeoutMs = 5000): Promise<boolean> {
    return this.o.feed.whenLoaded(timeoutMs);
  }

  private readonly relay = (ev: ImageEvent, prev: ImageRecord | undefined): void => {
    this.throughput.observe(ev, prev);
    if (ev.type === 'state') this.broadcast('state', { ref: ev.ref, record: ev.record });
    else if (ev.type === 'progress') this.broadcast('progress', ev, true);
    else this.broadcast('removed', { ref: ev.ref });
  };

  /** Clients may have missed changes: tell them to fetch again. */
  private readonly resync = (size: number): void => this.broadcast('resync', { reason: 'index reloaded', size });

  private broadcast(event: string, data: unknown, droppable = false): void {
    if (this.clients.size === 0) return;
    const frame = `id: ${++this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.writeAll(frame, droppable);
  }

  private writeAll(frame: string, droppable = false): void {
    for (const c of this.clients) {
      if (droppable && c.congested) continue;
      if (c.res.destroyed || c.res.writableEnded) {
        this.clients.delete(c);
        continue;
      }
      const flushed = c.res.write(frame);
      if (c.res.writableLength > this.maxBuffered) {
        this.cutOff(c);
        continue;
      }
      if (!flushed) {
        if (!c.congested) c.res.once('drain', () => (c.congested = false));
        c.congested = true;
      }
    }
  }

  /** A client that stopped reading would grow our memory without bound: destroy its stream (its buffer goes with it). */
  private cutOff(c: Client): void {
    const bufferedBytes = c.res.writableLength;
    this.clients.delete(c);
    this.dropped++;
    c.res.destroy();
    this.o.logger.debug({ bufferedBytes, maxBufferedBytes: this.maxBuffered }, 'dashboard SSE client stopped reading; dropped it (EventSource reconnects and resyncs)');
    this.emit('dropped', { bufferedBytes, maxBufferedBytes: this.maxBuffered } satisfies DroppedClient);
  }

  private async pushStats(): Promise<void> {
    if (this.clients.size === 0 || this.statsBusy) return;
    this.statsBusy = true;
    try {
      this.broadcast('stats', await this.o.stats(), true);
    } catch (e) {
      this.o.logger.debug({ err: describeError(e) }, 'dashboard stats push failed');
    } finally {
      this.statsBusy = false;
    }
  }

  /** Takes over a response as an SSE stream until the client goes away. */
  attach(res: ServerResponse, initial: unknown): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, congested: false };
    // retry: how long EventSource waits before reconnecting by itself.
    res.write(`retry: 2000\n: ferry dashboard events\n\nid: ${++this.seq}\nevent: hello\ndata: ${JSON.stringify(initial)}\n\n`);
    this.clients.add(client);
    const drop = () => this.clients.delete(client);
    res.on('close', drop);
    res.on('error', drop);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.statsTimer) clearInterval(this.statsTimer);
    // the feed belongs to the process and outlives the dashboard
    this.o.feed.off('event', this.relay);
    this.o.feed.off('reloaded', this.resync);
    this.index.close();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
