import type { ImageEvent, ImageRecord } from '../queue/index.js';

export const WINDOW_SECONDS = 60;

export interface ThroughputSnapshot {
  windowSeconds: number;
  /** Mean over the window. */
  bytesPerSecond: number;
  bytesLastMinute: number;
  /** Copies that finished (`copying` -> `mirrored`) in the window. */
  imagesLastMinute: number;
  /** Failed attempts (-> `retrying`/`error`) in the window. */
  failuresLastMinute: number;
  /** Bytes per second, oldest first, one entry per second of the window. */
  series: number[];
}

/**
 * Copy throughput seen by this process over the last minute, from the
 * worker's progress ticks (byte deltas per image) and the final state event
 * (whatever the last tick did not report).
 */
export class Throughput {
  private readonly bytes = new Float64Array(WINDOW_SECONDS);
  private readonly done = new Uint32Array(WINDOW_SECONDS);
  private readonly failed = new Uint32Array(WINDOW_SECONDS);
  private readonly stamp = new Float64Array(WINDOW_SECONDS).fill(-1);
  private readonly lastDone = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  private slot(sec: number): number {
    const i = sec % WINDOW_SECONDS;
    if (this.stamp[i] !== sec) {
      this.stamp[i] = sec;
      this.bytes[i] = 0;
      this.done[i] = 0;
      this.failed[i] = 0;
    }
    return i;
  }

  private addBytes(n: number): void {
    if (n <= 0) return;
    const i = this.slot(Math.floor(this.now() / 1000));
    this.bytes[i] = (this.bytes[i] ?? 0) + n;
  }

  /** Feed every event (with the record as it was before, from the index). */
  observe(ev: ImageEvent, prev: ImageRecord | undefined): void {
    if (ev.type === 'progress') {
      const last = this.lastDone.get(ev.ref) ?? prev?.bytesDone ?? 0;
      // A restart of the copy (new attempt) starts again from 0: count from there.
      this.addBytes(ev.bytesDone >= last ? ev.bytesDone - last : ev.bytesDone);
      this.lastDone.set(ev.ref, ev.bytesDone);
      return;
    }
    if (ev.type === 'removed') {
      this.lastDone.delete(ev.ref);
      return;
    }
    const r = ev.record;
    if (r.state === 'copying') return;
    const wasCopying = prev?.state === 'copying' || this.lastDone.has(r.ref);
    const last = this.lastDone.get(r.ref) ?? prev?.bytesDone ?? 0;
    this.lastDone.delete(r.ref);
    if (!wasCopying) return;
    const i = this.slot(Math.floor(this.now() / 1000));
    if (r.state === 'mirrored') {
      const total = Math.max(r.bytesTotal, r.bytesDone);
      this.addBytes(total - last);
      this.done[i] = (this.done[i] ?? 0) + 1;
    } else if (r.state === 'retrying' || r.state === 'error') {
      this.failed[i] = (this.failed[i] ?? 0) + 1;
    }
  }

  snapshot(): ThroughputSnapshot {
    const sec = Math.floor(this.now() / 1000);
    const series: number[] = [];
    let bytes = 0;
    let images = 0;
    let failures = 0;
    // The current second is still filling: the window is the last 60 complete seconds plus it.
    for (let s = sec - WINDOW_SECONDS + 1; s <= sec; s++) {
      const i = ((s % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS;
      const live = this.stamp[i] === s;
      const b = live ? (this.bytes[i] ?? 0) : 0;
      series.push(b);
      bytes += b;
      images += live ? (this.done[i] ?? 0) : 0;
      failures += live ? (this.failed[i] ?? 0) : 0;
    }
    return {
      windowSeconds: WINDOW_SECONDS,
      bytesPerSecond: Math.round(bytes / WINDOW_SECONDS),
      bytesLastMinute: bytes,
      imagesLastMinute: images,
      failuresLastMinute: failures,
      series,
    };
  }
}
