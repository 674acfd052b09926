/**
 * The process-wide gates of the upstream hosts (host-gate.ts decides, this
 * module waits): every engine and every copy in the process shares one gate
 * per host (Docker Hub's aliases share one), so a burst of jobs meets one
 * concurrency limit, one Retry-After pause and one quota.
 *
 * Waiting requests are served first come, first served; one held by a quota
 * does not hold back those that do not count (a HEAD passes a held manifest
 * GET). A hold longer than the caller's `maxHoldMs` is not waited out here:
 * the caller's `refuse` turns it into an error carrying `retryAfterMs` (the
 * queue's backoff waits it out), and nothing is sent.
 */
import { isDockerHub } from './credential-helper.js';
import { HostGate, type GateSettings, type GateSnapshot, type Hold, type Outcome, type Ticket } from './host-gate.js';

export interface GateRequest {
  /** A pull (manifest GET): what Docker Hub counts. */
  pull: boolean;
  signal?: AbortSignal | undefined;
  /** Longest hold (Retry-After, quota) waited in-process; a longer one is refused. */
  maxHoldMs: number;
  /** The error for a hold longer than `maxHoldMs` (`waitMs` from now). */
  refuse(hold: Hold, waitMs: number): Error;
}

/** A place at the gate, held until the response headers come: `finish` exactly once (later calls are ignored). */
export interface GatePass {
  finish(outcome: Outcome): void;
}

interface Waiter {
  req: GateRequest;
  resolve(p: GatePass): void;
  reject(e: unknown): void;
  onAbort(): void;
}

class GateQueue {
  readonly gate: HostGate;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(settings: GateSettings) {
    this.gate = new HostGate(settings);
  }

  get idle(): boolean {
    return this.waiters.length === 0 && this.gate.inFlight === 0;
  }

  acquire(req: GateRequest): Promise<GatePass> {
    if (req.signal?.aborted) return Promise.reject(req.signal.reason);
    // Fast path: nobody waiting for a place and the gate says go.
    if (this.waiters.length === 0) {
      const now = Date.now();
      const a = this.gate.admit(now, req.pull);
      if (a.go) return Promise.resolve(this.pass(now, req.pull, false));
      if ('hold' in a && a.hold.until - now > req.maxHoldMs) return Promise.reject(req.refuse(a.hold, a.hold.until - now));
    }
    return new Promise<GatePass>((resolve, reject) => {
      const w: Waiter = {
        req,
        resolve,
        reject,
        onAbort: () => {
          this.remove(w);
          reject(req.signal?.reason);
        },
      };
      req.signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.push(w);
      this.pump();
    });
  }

  private pass(now: number, pull: boolean, waited: boolean): GatePass {
    const ticket: Ticket = this.gate.start(now, pull, waited);
    let done = false;
    return {
      finish: (outcome) => {
        if (done) return;
        done = true;
        this.gate.finish(Date.now(), ticket, outcome);
        this.pump();
      },
    };
  }

  private remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    w.req.signal?.removeEventListener('abort', w.onAbort);
  }

  /** Lets in every waiter the gate admits, refuses those whose hold is too long, and wakes up for the earliest hold. */
  private pump(): void {
    const now = Date.now();
    let wake = Infinity;
    for (const w of [...this.waiters]) {
      const a = this.gate.admit(now, w.req.pull);
      if (a.go) {
        this.remove(w);
        w.resolve(this.pass(now, w.req.pull, true));
      } else if ('hold' in a) {
        if (a.hold.until - now > w.req.maxHoldMs) {
          this.remove(w);
          w.reject(w.req.refuse(a.hold, a.hold.until - now));
        } else wake = Math.min(wake, a.hold.until);
      }
    }
    if (wake === Infinity || wake >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = wake;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, wake - now));
  }
}

const queues = new Map<string, GateQueue>();

/** One gate for Docker Hub under any of its names. */
export const gateKey = (host: string): string => (isDockerHub(host) ? 'docker.io' : host);

/** Waits for a place at `host`'s gate (its settings refreshed first: hot reload). */
export function acquireHost(host: string, settings: GateSettings, req: GateRequest): Promise<GatePass> {
  const key = gateKey(host);
  let q = queues.get(key);
  if (!q) {
    q = new GateQueue(settings);
    queues.set(key, q);
  } else q.gate.configure(settings);
  return q.acquire(req);
}

/** What every gate knows now, by host (for metrics). */
export function hostGateSnapshots(now = Date.now()): Map<string, GateSnapshot> {
  return new Map([...queues].map(([host, q]) => [host, q.gate.snapshot(now)]));
}

/**
 * Drops what the process learnt about `host` (its limit, a Retry-After pause,
 * counted pulls) when nothing is waiting at or passing its gate; false when
 * something is. For an operator's "try now" and for tests whose clock is not
 * the wall clock.
 */
export function forgetHostGate(host: string): boolean {
  const key = gateKey(host);
  const q = queues.get(key);
  if (q && !q.idle) return false;
  queues.delete(key);
  return true;
}
