/**
 * The fixed request rate a host may be given (`registries.<host>.requestsPerSecond`,
 * `copy.requestsPerSecond`): a token bucket per host, shared by every engine
 * and every copy in the process (module-level map). It is a hard cap on top of
 * the adaptive gate (host-gate.ts), which is what paces upstreams by default;
 * rate 0 (the default) = no bucket. Capacity = one second of budget (min 1).
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private waiters: { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private rate: number) {
    this.tokens = this.capacity;
  }

  get capacity(): number {
    return Math.max(1, this.rate);
  }

  setRate(rate: number): void {
    if (rate === this.rate) return;
    this.refill();
    const wasUnlimited = this.rate <= 0;
    this.rate = rate;
    this.tokens = wasUnlimited ? this.capacity : Math.min(this.tokens, this.capacity);
    this.schedule();
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  private refill(): void {
    const now = performance.now();
    if (this.rate > 0) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Resolves when a request may be sent. rate <= 0 means unlimited. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.rate <= 0 || !Number.isFinite(this.rate)) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.push(w);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    this.refill();
    const wait = this.rate <= 0 ? 0 : Math.max(0, ((1 - this.tokens) / this.rate) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length && (this.rate <= 0 || this.tokens >= 1)) {
        const w = this.waiters.shift()!;
        if (this.rate > 0) this.tokens -= 1;
        w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve();
      }
      this.schedule();
    }, Math.ceil(wait));
  }
}

const buckets = new Map<string, TokenBucket>();

/** The process-wide bucket for `host`, its rate updated to `rps`. */
export function limiterFor(host: string, rps: number): TokenBucket {
  let b = buckets.get(host);
  if (!b) {
    b = new TokenBucket(rps);
    buckets.set(host, b);
  } else b.setRate(rps);
  return b;
}
