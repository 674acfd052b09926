/**
 * The pre-pull loop: keeps every planned image present in the node's runtime.
 * Per image: ImageStatus first, PullImage (through CRI, with ferry's
 * credentials for the mirror host) only when absent. `pullConcurrency`
 * images at once; a failure is retried after a jittered doubling backoff
 * (agent.backoff), a present image re-checked every resyncMs (the kubelet's
 * image GC may have removed it). One image's error never stops the others.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../async/index.js';
import type { CriAuth, CriImage, CriImageService } from '../cri/index.js';
import { describeError, isFerryError } from '../errors.js';
import { repositoryOfRef } from '../reference/index.js';
import type { PrepullState } from '../nodes/index.js';
import type { PlannedPull } from './plan.js';

export interface PrepullerSettings {
  pullConcurrency: number;
  backoff: Backoff;
  resyncMs: number;
}

export interface PrepullerOptions {
  cri: CriImageService;
  /** Read at each use (hot reload). */
  settings(): PrepullerSettings;
  /** Credentials for a pull of `ref` (criAuthFor). */
  authFor(ref: string): Promise<CriAuth | undefined>;
  logger: Logger;
  now?: () => number;
  rand?: () => number;
}

export interface PrepullerEvents {
  /** Any state change of one image (status, digest, error). */
  change: [PrepullState];
  present: [PrepullState];
  failed: [PrepullState];
  /** Every planned image is present (again). */
  ready: [];
}

interface Entry {
  state: PrepullState;
  /** When this entry is next looked at (ms). */
  due: number;
  busy: boolean;
}

/** `sha256:...` of the repo digest naming `ref`'s repository (else the first one). */
export function digestFor(ref: string, image: CriImage): string | undefined {
  const repo = repositoryOfRef(ref);
  const hit = image.repoDigests.find((d) => d.slice(0, d.lastIndexOf('@')) === repo) ?? image.repoDigests[0];
  return hit ? hit.slice(hit.lastIndexOf('@') + 1) : undefined;
}

function errorText(e: unknown): string {
  return isFerryError(e) ? `[${e.code}] ${e.message}` : describeError(e);
}

export class Prepuller extends EventEmitter<PrepullerEvents> {
  private readonly entries = new Map<string, Entry>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => number;
  private wasReady = false;

  constructor(private readonly o: PrepullerOptions) {
    super();
    this.now = o.now ?? Date.now;
  }

  /** The images to keep present, in order. New ones are looked at now; dropped ones are forgotten (left on the node). */
  setPlan(pulls: readonly PlannedPull[]): void {
    const keep = new Set(pulls.map((p) => p.ref));
    for (const ref of [...this.entries.keys()]) if (!keep.has(ref)) this.entries.delete(ref);
    const next = new Map<string, Entry>();
    for (const p of pulls) {
      const old = this.entries.get(p.ref);
      if (old) {
        old.state = { ...old.state, image: p.image, source: p.source };
        next.set(p.ref, old);
      } else {
        next.set(p.ref, { state: { image: p.image, ref: p.ref, source: p.source, status: 'pending', attempts: 0 }, due: 0, busy: false });
      }
    }
    this.entries.clear();
    for (const [k, v] of next) this.entries.set(k, v);
    this.wasReady = false;
    this.pump();
  }

  states(): PrepullState[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  /** Every planned image present (true for an empty plan). */
  allPresent(): boolean {
    for (const e of this.entries.values()) if (e.state.status !== 'present') return false;
    return true;
  }

  /** Look at every image not waiting for a retry now (a resync). */
  resync(): void {
    for (const e of this.entries.values()) if (e.state.status !== 'error') e.due = Math.min(e.due, this.now());
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const limit = Math.max(1, this.o.settings().pullConcurrency);
    for (const e of this.entries.values()) {
      if (this.inFlight >= limit) break;
      if (e.busy || e.due > now) continue;
      this.start(e);
    }
    this.checkReady();
    let next = Infinity;
    for (const e of this.entries.values()) if (!e.busy) next = Math.min(next, e.due);
    if (Number.isFinite(next) && this.inFlight < limit) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, next - this.now()));
    }
  }

  private start(e: Entry): void {
    e.busy = true;
    this.inFlight++;
    const p = this.look(e)
      .catch((err) => this.o.logger.error({ ref: e.state.ref, err: describeError(err) }, 'agent: pre-pull step failed unexpectedly'))
      .finally(() => {
        e.busy = false;
        this.inFlight--;
        this.running.delete(p);
        this.pump();
      });
    this.running.add(p);
  }

  private update(e: Entry, patch: Partial<PrepullState>, event?: 'present' | 'failed'): void {
    if (this.entries.get(e.state.ref) !== e) return; // dropped from the plan meanwhile
    const before = JSON.stringify(e.state);
    e.state = { ...e.state, ...patch };
    for (const k of Object.keys(patch) as (keyof PrepullState)[]) if (patch[k] === undefined) delete e.state[k];
    if (JSON.stringify(e.state) !== before) this.emit('change', { ...e.state });
    if (event) this.emit(event, { ...e.state } as PrepullState);
  }

  private checkReady(): void {
    const ready = this.allPresent();
    if (ready && !this.wasReady) this.emit('ready');
    this.wasReady = ready;
  }

  /** One look at one image: status, pull when absent, status again. */
  private async look(e: Entry): Promise<void> {
    const { ref } = e.state;
    const signal = this.abort.signal;
    const settings = this.o.settings();
    try {
      let image = await this.o.cri.imageStatus(ref, { signal });
      let pulled = false;
      if (!image) {
        this.update(e, { status: 'pulling' });
        this.o.logger.info({ ref, image: e.state.image, attempt: e.state.attempts + 1 }, 'agent: pulling');
        const auth = await this.o.authFor(ref);
        await this.o.cri.pullImage(ref, { ...(auth ? { auth } : {}), signal });
        image = await this.o.cri.imageStatus(ref, { signal });
        pulled = true;
      }
      if (this.closed) return;
      const at = new Date(this.now()).toISOString();
      const digest = image ? digestFor(ref, image) : undefined;
      const wasPresent = e.state.status === 'present';
      this.update(
        e,
        {
          status: 'present',
          digest,
          bytes: image?.size,
          attempts: 0,
          error: undefined,
          retryAt: undefined,
          pulledAt: pulled || !e.state.pulledAt ? at : e.state.pulledAt,
        },
        wasPresent ? undefined : 'present',
      );
      if (!wasPresent) this.o.logger.info({ ref, digest, bytes: image?.size, pulled }, pulled ? 'agent: pulled' : 'agent: already present');
      e.due = this.now() + settings.resyncMs;
    } catch (err) {
      if (this.closed) return;
      const attempts = e.state.attempts + 1;
      const delay = backoffDelay(attempts, { ...settings.backoff, jitter: 'equal' }, this.o.rand);
      const retryAt = this.now() + delay;
      e.due = retryAt;
      this.update(e, { status: 'error', error: errorText(err), attempts, retryAt: new Date(retryAt).toISOString() }, 'failed');
      this.o.logger.warn(
        { ref, image: e.state.image, attempts, retryInMs: delay, err: describeError(err), code: isFerryError(err) ? err.code : undefined },
        'agent: pre-pull failed; will retry',
      );
    }
  }
}
