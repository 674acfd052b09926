import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { isAvailable, type ImageRecord, type ImageView } from './record.js';
import { decodeEvent, type ImageStore } from './store.js';

export type { ImageView };

/**
 * The webhook's in-process view of image states: loaded once, then kept
 * current from the events channel, so an admission never makes a Redis round
 * trip. On (re)subscribe it reloads, so nothing missed while disconnected
 * stays stale.
 */
export class StateView extends EventEmitter<{ change: [ref: string] }> {
  private readonly map = new Map<string, ImageView>();
  private ready = false;
  private closed = false;

  constructor(
    private readonly store: ImageStore,
    private readonly subscriber: Redis,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    super();
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => this.apply(message));
    // ioredis re-subscribes by itself after a reconnect; 'ready' fires then too.
    this.subscriber.on('ready', () => {
      if (this.ready) void this.reload().catch(this.onError);
    });
    await this.subscriber.subscribe(this.store.k.events);
    await this.reload();
  }

  private apply(message: string): void {
    const ev = decodeEvent(message);
    if (!ev) return;
    if (ev.type === 'removed') this.map.delete(ev.ref);
    else if (ev.type === 'state') this.set(ev.record);
    else return;
    this.emit('change', ev.ref);
  }

  private set(r: ImageRecord): void {
    this.map.set(r.ref, { state: r.state, digest: r.digest, mirroredAt: r.mirroredAt, blockedReason: r.blockedReason });
  }

  async reload(): Promise<void> {
    if (this.closed) return;
    const records = await this.store.listAll();
    this.map.clear();
    for (const r of records) this.set(r);
    this.ready = true;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get size(): number {
    return this.map.size;
  }

  get(ref: string): ImageView | undefined {
    return this.map.get(ref);
  }

  isAvailable(ref: string): boolean {
    return isAvailable(this.map.get(ref));
  }

  /** Local echo: what this process just enqueued is `queued` before Redis says so. */
  noteQueued(ref: string): void {
    if (!this.map.has(ref)) this.map.set(ref, { state: 'queued', digest: null, mirroredAt: null, blockedReason: null });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscriber.unsubscribe().catch(() => {});
  }
}
