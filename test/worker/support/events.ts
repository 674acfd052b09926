/** Collects the image events published on `<prefix>:events` and waits for them (no sleeps). */
import type { Redis } from 'ioredis';
import { connectRedis, decodeEvent, type ImageEvent, type ImageRecord } from '../../../src/queue/index.js';

export interface Seen {
  at: number;
  ev: ImageEvent;
}

export class EventLog {
  readonly seen: Seen[] = [];
  private waiters: { pred: (s: Seen) => boolean; resolve: (s: Seen) => void }[] = [];
  private constructor(private readonly sub: Redis) {}

  static async start(redisUrl: string, channel: string): Promise<EventLog> {
    const sub = connectRedis(redisUrl);
    const log = new EventLog(sub);
    sub.on('message', (_c: string, m: string) => {
      const ev = decodeEvent(m);
      if (!ev) return;
      const s = { at: Date.now(), ev };
      log.seen.push(s);
      log.waiters = log.waiters.filter((w) => {
        if (!w.pred(s)) return true;
        w.resolve(s);
        return false;
      });
    });
    await sub.subscribe(channel);
    return log;
  }

  /** Resolves with the first event (already seen or future) matching `pred`. */
  wait(pred: (ev: ImageEvent) => boolean, what: string, timeoutMs = 15_000): Promise<Seen> {
    const hit = this.seen.find((s) => pred(s.ev));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw: ${this.summary()}`));
      }, timeoutMs);
      const done = (s: Seen) => {
        clearTimeout(t);
        resolve(s);
      };
      this.waiters.push({ pred: (s) => pred(s.ev), resolve: done });
    });
  }

  /** Waits for a state event of `ref` in `state`; returns its record. */
  async state(ref: string, state: ImageRecord['state'], timeoutMs?: number): Promise<ImageRecord> {
    const s = await this.wait((e) => e.type === 'state' && e.ref === ref && e.record.state === state, `${ref} -> ${state}`, timeoutMs);
    return (s.ev as { record: ImageRecord }).record;
  }

  /** The state records of `ref`, in order. */
  states(ref: string): ImageRecord[] {
    return this.seen.flatMap((s) => (s.ev.type === 'state' && s.ev.ref === ref ? [s.ev.record] : []));
  }

  summary(): string {
    return this.seen
      .slice(-20)
      .map((s) => `${s.ev.type}:${s.ev.ref}${s.ev.type === 'state' ? `=${s.ev.record.state}` : ''}`)
      .join(', ');
  }

  async close(): Promise<void> {
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
