import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { decodeEvent, type ImageEvent, type ImageStore } from '../queue/index.js';
import { ImageIndex } from './image-index.js';
import { Throughput } from './throughput.js';

export interface LiveOptions {
  store: ImageStore;
  /** A dedicated connection: it is put in subscriber mode. */
  subscriber: Redis;
  logger: Logger;
  /** SSE comment every N ms so proxies keep the stream open and clients notice a dead one. */
  heartbeatMs?: number;
  /** How often a `stats` event is pushed to SSE clients (only while some are connected). */
  statsMs?: number;
  /** Builds the `stats` payload (counts, queue, throughput). */
  stats: () => Promise<unknown>;
  now?: () => number;
}

interface Client {
  res: ServerResponse;
  /** The socket buffer is full: progress ticks are dropped for this client until it drains (state changes never are). */
  congested: boolean;
}

/**
 * One Redis subscriber for the whole dashboard: it keeps the in-memory image
 * index and the throughput window current and relays every event to all
 * Server-Sent-Events clients.
 */
export class Live {
  readonly index = new ImageIndex();
  readonly throughput: Throughput;
  private readonly clients = new Set<Client>();
  private seq = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private statsBusy = false;
  private starting: Promise<void> | undefined;
  private closed = false;
  private loading: Promise<void> | undefined;
  private readonly firstLoad: Promise<void>;
  private resolveFirstLoad!: () => void;

  constructor(private readonly o: LiveOptions) {
    this.throughput = new Throughput(o.now);
    this.firstLoad = new Promise((r) => (this.resolveFirstLoad = r));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Events subscribed and the index loaded at least once. */
  get ready(): boolean {
    return this.o.subscriber.status === 'ready' && this.index.loaded;
  }

  /**
   * Subscribes and loads the index. Resolves once loaded; if Redis is away it
   * keeps trying (ioredis queues the commands until it reconnects).
   */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    const sub = this.o.subscriber;
    sub.on('message', (_channel: string, message: string) => this.onMessage(message));
    // ioredis re-subscribes by itself after a reconnect; whatever happened meanwhile is reloaded.
    sub.on('ready', () => {
      if (this.index.loaded && !this.closed) void this.reload().catch(() => {});
    });
    this.heartbeat = setInterval(() => this.writeAll(`: heartbeat ${new Date().toISOString()}\n\n`), this.o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.statsTimer = setInterval(() => void this.pushStats(), this.o.statsMs ?? 2000);
    this.statsTimer.unref();
    this.starting = (async () => {
      await sub.subscribe(this.o.store.k.events);
      while (!this.closed) {
        try {
          await this.reload();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 1000).unref());
        }
      }
    })();
    return this.starting;
  }

  /** (Re)reads every record while buffering live events; concurrent calls share one load. The old contents are served meanwhile. */
  reload(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      const t0 = Date.now();
      this.index.beginLoad();
      try {
        const records = await this.o.store.listAll();
        this.index.finishLoad(records);
        this.resolveFirstLoad();
        this.o.logger.debug({ records: records.length, ms: Date.now() - t0 }, 'dashboard image index loaded');
        // Clients may have missed changes: tell them to fetch again.
        this.broadcast('resync', { reason: 'index reloaded', size: this.index.size });
      } catch (e) {
        this.index.abortLoad();
        this.o.logger.warn({ err: describeError(e) }, 'dashboard could not load image records; serving what it has');
        throw e;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** True once the index was loaded; false if that did not happen within `timeoutMs`. */
  async whenLoaded(timeoutMs = 5000): Promise<boolean> {
    if (this.index.loaded) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([this.firstLoad.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onMessage(message: string): void {
    const ev = decodeEvent(message);
    if (!ev) return;
    this.ingest(ev);
  }

  /** Applies an event as if it came from Redis (exposed for tests). */
  ingest(ev: ImageEvent): void {
    this.throughput.observe(ev, this.index.get(ev.ref));
    this.index.apply(ev);
    if (ev.type === 'state') this.broadcast('state', { ref: ev.ref, record: ev.record });
    else if (ev.type === 'progress') this.broadcast('progress', ev, true);
    else this.broadcast('removed', { ref: ev.ref });
  }

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
      if (!c.res.write(frame)) {
        c.congested = true;
        c.res.once('drain', () => (c.congested = false));
      }
    }
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
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    // With Redis away the command would wait for a reconnect: the root disconnects the connection anyway.
    if (this.o.subscriber.status === 'ready') await this.o.subscriber.unsubscribe().catch(() => {});
  }
}
