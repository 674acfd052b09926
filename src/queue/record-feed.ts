import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ImageEvent, ImageRecord } from './record.js';
import { whenReady } from './connection.js';
import { decodeEvent, type ImageStore } from './store.js';

/**
 * Every image record in memory, kept current from the events channel: the
 * one copy a process holds, whichever roles read it (the webhook's
 * StateView, the dashboard's index and live stream).
 *
 * Loading races with live events: events that arrive while the snapshot is
 * read are buffered and replayed on top of it, a state event only when it is
 * not older than what the snapshot holds. ioredis re-subscribes by itself
 * after a reconnect; the feed then reloads, so nothing missed meanwhile
 * stays stale.
 */
export class RecordFeed extends EventEmitter<{
  /** After `ev` was applied; `prev` is the record as it was before. */
  event: [ev: ImageEvent, prev: ImageRecord | undefined];
  /** After a (re)load replaced the contents. */
  reloaded: [size: number];
}> {
  private readonly map = new Map<string, ImageRecord>();
  private buffered: ImageEvent[] | undefined;
  private loadedOnce = false;
  private loading: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  private readonly firstLoad: Promise<void>;
  private resolveFirstLoad!: () => void;

  constructor(
    private readonly store: ImageStore,
    /** A dedicated connection: it is put in subscriber mode. */
    private readonly subscriber: Redis,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    super();
    this.firstLoad = new Promise((r) => (this.resolveFirstLoad = r));
  }

  /**
   * Subscribes and loads. Idempotent; resolves once loaded. If Redis is away
   * it keeps trying (ioredis queues the commands until it reconnects).
   */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    this.subscriber.on('message', (_channel: string, message: string) => {
      const ev = decodeEvent(message);
      if (ev) this.apply(ev);
    });
    this.subscriber.on('ready', () => {
      if (this.loadedOnce && !this.closed) void this.reload().catch(() => {});
    });
    this.starting = (async () => {
      await whenReady(this.subscriber); // SUBSCRIBE during the handshake would loop (connection.ts)
      await this.subscriber.subscribe(this.store.k.events);
      while (!this.closed) {
        try {
          await this.reload();
          return;
        } catch {
          await sleep(1000, undefined, { ref: false });
        }
      }
    })();
    return this.starting;
  }

  /** (Re)reads every record while buffering live events; concurrent calls share one load. The old contents are served meanwhile. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.loading) return this.loading;
    this.loading = (async () => {
      this.buffered = [];
      let records: ImageRecord[];
      try {
        records = await this.store.listAll();
      } catch (e) {
        // keep serving what we had and apply events directly again
        const pending = this.buffered ?? [];
        this.buffered = undefined;
        for (const ev of pending) this.apply(ev);
        this.onError(e);
        throw e;
      } finally {
        this.loading = undefined;
      }
      const pending = this.buffered ?? [];
      this.buffered = undefined;
      this.map.clear();
      for (const r of records) this.map.set(r.ref, r);
      this.loadedOnce = true;
      for (const ev of pending) {
        const prev = this.map.get(ev.ref);
        if (ev.type === 'state' && prev && ev.record.updatedAt < prev.updatedAt) continue;
        this.applyNow(ev);
      }
      this.emit('reloaded', this.map.size);
      this.resolveFirstLoad();
    })();
    return this.loading;
  }

  /** Applies one event (as if it came from Redis; exposed for tests). While loading, events are buffered. */
  apply(ev: ImageEvent): void {
    if (this.buffered) this.buffered.push(ev);
    else this.applyNow(ev);
  }

  private applyNow(ev: ImageEvent): void {
    let prev = this.map.get(ev.ref);
    if (ev.type === 'state') this.map.set(ev.ref, ev.record);
    else if (ev.type === 'removed') this.map.delete(ev.ref);
    else if (prev) {
      // progress: in place, so sorted lists holding the object stay current (the store
      // does not touch updatedAt either); listeners get the values as they were
      const current = prev;
      prev = { ...prev };
      current.bytesDone = ev.bytesDone;
      current.bytesTotal = ev.bytesTotal;
    }
    this.emit('event', ev, prev);
  }

  /** Loaded at least once (a reload in progress keeps serving the previous contents). */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  /** Loaded and subscribed right now. */
  get ready(): boolean {
    return this.loadedOnce && this.subscriber.status === 'ready';
  }

  /** True once loaded; false if that did not happen within `timeoutMs`. */
  async whenLoaded(timeoutMs = 5000): Promise<boolean> {
    if (this.loadedOnce) return true;
    const timer = new AbortController();
    try {
      return await Promise.race([this.firstLoad.then(() => true), sleep(timeoutMs, false, { signal: timer.signal })]);
    } finally {
      timer.abort(); // the sleep's rejection is Promise.race's, already settled: nobody sees it
    }
  }

  get size(): number {
    return this.map.size;
  }

  get(ref: string): ImageRecord | undefined {
    return this.map.get(ref);
  }

  values(): IterableIterator<ImageRecord> {
    return this.map.values();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // With Redis away the command would wait for a reconnect: the owner disconnects the connection anyway.
    if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe().catch(() => {});
  }
}
