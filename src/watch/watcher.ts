/**
 * The watcher: polls (under a per-watch lock), change detection and
 * re-mirroring, and what starts them (schedules, record events, start-up).
 * It composes the rest: holdings.ts and retention-pass.ts after a poll or a
 * landed copy, api.ts behind the routes, hook-polls.ts for notifications.
 * Emits `polled` (PollReport) after every poll, `retained`
 * (RetentionReport) after every retention pass and `aliased` (AliasedEvent)
 * when a watch's alias tag was put in the mirror (alias.ts), so tests and
 * callers await events instead of sleeping.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../async/index.js';
import type { FerryConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import type { InUseStore } from '../in-use/index.js';
import { decodeEvent, whenReady, type ImageStore, type Producer } from '../queue/index.js';
import { reconcileAlias, type AliasDeps, type AliasedEvent, type AliasOutcome } from './alias.js';
import { WatchApi, type WatchView } from './api.js';
import { mergeWatches, tagRef, type ResolvedWatch, type ResourceWatch } from './definition.js';
import { WATCH_ERROR_CODES } from './errors.js';
import { reconcileHoldings } from './holdings.js';
import { pollWatchesForEnvelope, type HookOutcome, type HookPollDeps } from './hook-polls.js';
import { WatchLocks, type LockMode, type WatchOp } from './lock.js';
import * as metrics from './metrics.js';
import { observe, type AnswerCache, type WatchEngine } from './observe.js';
import { runRetentionPass, type RetentionPassDeps, type RetentionReport } from './retention-pass.js';
import { WatchScheduler } from './scheduler.js';
import { WatchState, type ChangeEvent, type HeldEntry, type PollResult, type RefEntry, type WatchStatus } from './state.js';
import { detectChange } from './strategy/index.js';

/** What asked for a poll; `deferred`: asked while another run held the watch's lock, run right after it. */
export type Trigger = 'schedule' | 'retry' | 'hook' | 'api' | 'start' | 'deferred';

export interface PollReport {
  id: string;
  trigger: Trigger;
  /** BullMQ job id for scheduled polls (one per tick, whatever the replica count). */
  jobId?: string | undefined;
  result: PollResult;
  reason: string | null;
  selected: { tag: string; digest: string } | null;
  change?: ChangeEvent | undefined;
  error?: { code: string; message: string } | undefined;
  /** After a transient error: an early retry is scheduled in this many ms (unless the schedule comes first). */
  retryInMs?: number | undefined;
  /** Image configs fetched for `newest` (0 when the cache answered). */
  configFetches: number;
  durationMs: number;
}

/** What the watcher runs on: connections, the image store and producer, the registry engine. */
export interface WatcherDeps {
  config(): FerryConfig;
  /** Commands connection (status, locks, BullMQ queue). */
  redis: Redis;
  /** Own connection for the scheduler's BullMQ Worker; omit to never consume scheduled ticks. */
  workerConnection?: Redis;
  /** Own connection subscribed to image record events (retention runs when a watched copy lands). */
  subscriber?: Redis;
  store: ImageStore;
  producer: Producer;
  engine: WatchEngine;
  logger: Logger;
  mirrorRefOf(ref: string): string;
  /** The in-use index when this process watches pods: retention then keeps what pods run, and deletes nothing while the pod watch is not live. */
  inUse?: InUseStore | undefined;
  /** Watches defined by ImageWatch resources (the informer's current view); call `sync()` when it changes. */
  resourceWatches?: () => readonly ResourceWatch[];
  /** Scheduled polls run at once per process. @defaultValue 4 */
  concurrency?: number;
  /** @defaultValue 60 s */
  lockTtlMs?: number;
  /** Re-verify a remembered alias tag with one mirror HEAD at least this often. @defaultValue 15 min (ALIAS_VERIFY_EVERY_MS) */
  aliasVerifyEveryMs?: number;
}

export class Watcher extends EventEmitter {
  readonly state: WatchState;
  readonly scheduler: WatchScheduler;
  private readonly locks: WatchLocks;
  private readonly api: WatchApi;
  private readonly retention: RetentionPassDeps;
  private readonly hookPolls: HookPollDeps;
  private readonly aliasDeps: AliasDeps;
  /** Watches whose alias this process verified against the mirror since it started. */
  private readonly aliasVerified = new Set<string>();
  private readonly logger: Logger;
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  private lastProblems = '';

  constructor(private readonly o: WatcherDeps) {
    super();
    const prefix = o.config().queue.prefix;
    this.logger = o.logger.child({ role: 'watch' });
    this.state = new WatchState(o.redis, prefix);
    this.locks = new WatchLocks(o.redis, this.state.k, o.lockTtlMs);
    this.scheduler = new WatchScheduler({
      connection: o.redis,
      ...(o.workerConnection ? { workerConnection: o.workerConnection } : {}),
      prefix,
      concurrency: o.concurrency ?? 4,
      logger: this.logger,
      onTick: async (id, jobId, retry) => {
        if (await this.find(id)) await this.poll(id, retry ? 'retry' : 'schedule', 'defer', jobId);
        else await this.sync(); // a tick of a watch that is gone: drop its scheduler
      },
    });
    this.api = new WatchApi({
      state: this.state,
      watches: () => this.watches(),
      find: (id) => this.find(id),
      sync: () => this.sync(),
      pollSoon: (id) => this.background(this.poll(id, 'api')),
      cancelRetry: (id) => this.scheduler.cancelRetry(id),
    });
    this.retention = {
      state: this.state,
      store: o.store,
      engine: o.engine,
      logger: this.logger,
      mirrorRefOf: o.mirrorRefOf,
      signal: this.closing.signal,
      inUse: o.inUse,
      keepUnusedFor: () => o.config().gc.keepUnusedFor,
    };
    this.aliasDeps = { state: this.state, store: o.store, engine: o.engine, logger: this.logger, mirrorRefOf: o.mirrorRefOf, signal: this.closing.signal };
    this.hookPolls = {
      watches: () => this.watches(),
      registries: () => o.config().registries,
      engine: o.engine,
      signal: this.closing.signal,
      closed: () => this.closed,
      poll: (id) => this.poll(id, 'hook', 'defer'),
      background: (task) => this.background(task),
      // With a pod view, a push of a tag pods run re-checks it (what drift refresh does for one moved tag).
      ...(o.inUse
        ? { recheck: { inUse: o.inUse, store: o.store, producer: o.producer, redis: o.redis, prefix: () => o.config().queue.prefix, mirrorRefOf: o.mirrorRefOf, logger: this.logger } }
        : {}),
    };
  }

  /** Schedules, record-event subscription, first polls of never-polled watches. */
  async start(): Promise<void> {
    await this.sync();
    if (this.o.subscriber) {
      const sub = this.o.subscriber;
      sub.on('message', (_channel: string, message: string) => this.onRecordEvent(message));
      await whenReady(sub); // SUBSCRIBE during the handshake would loop (src/queue/connection.ts)
      await sub.subscribe(this.o.store.k.events);
    }
  }

  /** Config-file watches merged with API-defined ones and ImageWatch resources. */
  async watches(): Promise<ResolvedWatch[]> {
    const { watches, problems } = mergeWatches(this.o.config().watch, await this.state.apiWatches(), this.o.resourceWatches?.() ?? []);
    const said = problems.join('\n');
    if (said !== this.lastProblems) for (const p of problems) this.logger.error({ problem: p }, 'watch ignored');
    this.lastProblems = said;
    metrics.watchesGauge.set({ source: 'config' }, watches.filter((w) => w.source === 'config').length);
    metrics.watchesGauge.set({ source: 'api' }, watches.filter((w) => w.source === 'api').length);
    metrics.watchesGauge.set({ source: 'resource' }, watches.filter((w) => w.source === 'resource').length);
    return watches;
  }

  async find(id: string): Promise<ResolvedWatch | undefined> {
    return (await this.watches()).find((w) => w.id === id);
  }

  /** Brings the job schedulers in line with the watches, then polls the never-polled ones. */
  async sync(): Promise<void> {
    if (this.closed) return;
    const watches = await this.watches();
    await this.scheduler.sync(watches);
    const statuses = await this.state.allStatuses();
    for (const w of watches) if (!statuses.get(w.id)?.lastPollAt) this.background(this.poll(w.id, 'start', 'skip'));
  }

  private background(p: Promise<unknown>): void {
    const t = p.catch((e) => this.logger.error({ err: describeError(e) }, 'watch task failed')).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }

  /**
   * Polls one watch now (plus retention). When another run holds the watch:
   * `wait` (default) waits for it (bounded, then defers), `defer` leaves a
   * note so that the holder polls again afterwards, `skip` drops the
   * request. Resolves with the report, or undefined when it did not run here.
   */
  async poll(id: string, trigger: Trigger, mode: LockMode = 'wait', jobId?: string): Promise<PollReport | undefined> {
    if (this.closed) return undefined;
    const out = await this.locks.run(id, 'poll', mode, (op, first) => this.runLocked(id, op, first ? trigger : 'deferred', first ? jobId : undefined));
    if (!out.ran) metrics.polls.inc({ outcome: 'skipped' });
    return out.ran ? (out.value as PollReport | undefined) : undefined;
  }

  /** Reconciles holdings and applies `keep` for one watch (under its lock). */
  async retain(id: string): Promise<RetentionReport | undefined> {
    if (this.closed) return undefined;
    const out = await this.locks.run(id, 'retain', 'defer', (op) => this.runLocked(id, op, 'deferred', undefined));
    return out.ran ? (out.value as RetentionReport | undefined) : undefined;
  }

  private async runLocked(id: string, op: WatchOp, trigger: Trigger, jobId: string | undefined): Promise<PollReport | RetentionReport | undefined> {
    const w = await this.find(id);
    if (!w) return undefined;
    if (op === 'poll') return this.doPoll(w, trigger, jobId);
    await this.aliasPass(w, {});
    return this.retentionPass(w);
  }

  /**
   * Moves (or repairs) the watch's alias tag when its selection's copy is
   * complete; before retention, which then keeps the alias's digest. The
   * mirror is HEADed on the first pass of this process, on API polls and once
   * per aliasVerifyEveryMs; otherwise the remembered status answers.
   */
  private async aliasPass(w: ResolvedWatch, o: { tags?: readonly string[] | undefined; trigger?: Trigger }): Promise<AliasOutcome | undefined> {
    try {
      const verify = o.trigger === 'api' || !this.aliasVerified.has(w.id);
      const out = await reconcileAlias(this.aliasDeps, w, { tags: o.tags, verify, verifyEveryMs: this.o.aliasVerifyEveryMs });
      if (out?.action === 'unchanged' || out?.action === 'moved' || out?.action === 'repaired') this.aliasVerified.add(w.id);
      else this.aliasVerified.delete(w.id);
      if (out?.digest && (out.action === 'moved' || out.action === 'repaired')) {
        const ev: AliasedEvent = { id: w.id, alias: out.alias, digest: out.digest, previous: out.previous, action: out.action };
        await this.state.publish({ type: 'aliased', ...ev }).catch(() => {});
        this.emit('aliased', ev);
      }
      return out;
    } catch (e) {
      this.logger.warn({ watch: w.id, err: describeError(e) }, 'alias pass failed');
      return undefined;
    }
  }

  private async retentionPass(w: ResolvedWatch): Promise<RetentionReport> {
    const report = await runRetentionPass(this.retention, w);
    this.emit('retained', report);
    return report;
  }

  private cacheOf(id: string): AnswerCache {
    return {
      get: (fields) => this.state.cacheGet(id, fields),
      set: (entries) => this.state.cacheSet(id, entries),
      prune: (keep) => this.state.cachePrune(id, keep),
    };
  }

  private async doPoll(w: ResolvedWatch, trigger: Trigger, jobId?: string): Promise<PollReport> {
    const started = performance.now();
    const now = () => new Date().toISOString();
    const prev = await this.state.status(w.id);
    const status: WatchStatus = { ...prev, polls: prev.polls + 1, lastPollAt: now() };
    const report: PollReport = { id: w.id, trigger, jobId, result: 'error', reason: null, selected: null, configFetches: 0, durationMs: 0 };
    let listedTags: string[] | undefined; // the upstream tag list of this poll, for the alias's conflict check
    try {
      const obs = await observe(this.o.engine, w, this.cacheOf(w.id), this.closing.signal);
      listedTags = obs.tags;
      report.reason = obs.selection.reason;
      report.configFetches = obs.configFetches;
      if (!obs.selected) {
        report.result = 'no-match';
      } else {
        const { tag, digest } = obs.selected;
        const kind = detectChange(prev.selected, { tag, digest });
        report.selected = { tag, digest };
        const ref = tagRef(w, tag);
        if (kind !== 'unchanged') {
          report.change = await this.remirror(w, ref, tag, prev, digest, kind, trigger);
          status.selected = { tag, digest, since: report.change.at };
          status.lastChangeAt = report.change.at;
        } else if (!(await this.o.store.get(ref))) {
          // The record went away (deleted through the API?): bring the image back.
          await this.o.producer.enqueueNow({ ref, mirrorRef: this.o.mirrorRefOf(ref), source: 'watch' });
        }
        report.result = kind;
      }
      status.error = null;
      status.consecutiveErrors = 0;
    } catch (e) {
      report.result = 'error';
      report.error = { code: isFerryError(e) ? e.code : WATCH_ERROR_CODES.POLL, message: describeError(e) };
      status.error = report.error;
      status.consecutiveErrors = prev.consecutiveErrors + 1;
      const retryInMs = isFerryError(e) && e.transient ? retryDelay(status.consecutiveErrors, e.details?.retryAfterMs) : undefined;
      if (retryInMs !== undefined && !this.closed) {
        report.retryInMs = (await this.scheduler.retryLater(w, retryInMs).catch(() => false)) ? retryInMs : undefined;
      }
      this.logger.warn({ watch: w.id, err: report.error.message, code: report.error.code, trigger, retryInMs: report.retryInMs }, 'watch poll failed');
    }
    status.lastResult = report.result;
    status.reason = report.reason;
    report.durationMs = Math.round(performance.now() - started);
    metrics.polls.inc({ outcome: report.result });
    metrics.pollSeconds.observe(report.durationMs / 1000);
    await this.state.setStatus(w.id, status);
    await this.state.publish({ type: 'polled', ...report }).catch(() => {});
    this.logger.info(
      { watch: w.id, trigger, result: report.result, tag: report.selected?.tag, digest: report.selected?.digest, ms: report.durationMs },
      report.change ? `watch ${w.id}: ${report.change.kind} ${report.change.tag} -> re-mirroring` : `watch ${w.id} polled: ${report.result}`,
    );
    if (report.result !== 'error') {
      await this.aliasPass(w, { tags: listedTags, trigger });
      await this.retentionPass(w).catch((e) => this.logger.warn({ watch: w.id, err: describeError(e) }, 'retention failed'));
    }
    this.emit('polled', report);
    return report;
  }

  /** The selection changed: force a copy, remember the ref and the event. */
  private async remirror(w: ResolvedWatch, ref: string, tag: string, prev: WatchStatus, digest: string, kind: Exclude<PollResult, 'unchanged' | 'no-match' | 'error'>, trigger: Trigger): Promise<ChangeEvent> {
    const at = new Date().toISOString();
    const { refs } = await reconcileHoldings(this.state, this.o.store, w); // note what the mirror holds before the record is reset
    const known = refs.get(ref);
    const existing = known ? undefined : await this.o.store.get(ref);
    const mirrorRef = this.o.mirrorRefOf(ref);
    await this.o.producer.enqueueNow({ ref, mirrorRef, source: 'watch', force: true });
    const entry: RefEntry = known
      ? { ...known, lastEnqueuedAt: at }
      : { tag, owned: !existing, firstEnqueuedAt: at, lastEnqueuedAt: at };
    await this.state.setRef(w.id, ref, entry);
    const event: ChangeEvent = {
      at,
      kind,
      tag,
      previousTag: prev.selected?.tag ?? null,
      oldDigest: prev.selected?.digest ?? null,
      newDigest: digest,
      ref,
      mirrorRef,
      trigger,
    };
    await this.state.addEvent(w.id, event);
    metrics.changes.inc({ kind });
    return event;
  }

  /** A copy landed: if it belongs to a watch, reconcile holdings and apply retention. */
  private onRecordEvent(message: string): void {
    const ev = decodeEvent(message);
    if (!ev || ev.type !== 'state' || ev.record.state !== 'mirrored' || this.closed) return;
    const ref = ev.ref;
    this.background(
      (async () => {
        for (const w of await this.watches()) if (ref.startsWith(`${w.repository}:`)) await this.retain(w.id);
      })(),
    );
  }

  // ------------------------------------------------------------------ the API (api.ts) and hooks (hook-polls.ts)

  list(): Promise<WatchView[]> {
    return this.api.list();
  }

  get(id: string): Promise<WatchView> {
    return this.api.get(id);
  }

  history(id: string): Promise<{ id: string; events: ChangeEvent[]; held: HeldEntry[] }> {
    return this.api.history(id);
  }

  put(id: string, body: unknown): Promise<{ created: boolean; watch: WatchView }> {
    return this.api.put(id, body);
  }

  remove(id: string): Promise<void> {
    return this.api.remove(id);
  }

  /** Handles a registry webhook (any format in hook-formats/): starts a poll of each matching watch and re-checks in-use tags (in the background). Throws HOOK_INVALID. */
  notify(body: unknown): Promise<HookOutcome> {
    return pollWatchesForEnvelope(this.hookPolls, body);
  }

  /** Hot reload: engine settings are the caller's; schedules follow the new `watch:` list. */
  async onConfigChange(): Promise<void> {
    await this.sync();
  }

  /** Lets running polls finish (up to `graceMs`), then aborts their registry requests. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = Promise.allSettled([
      this.scheduler.close().catch((e) => this.logger.warn({ err: describeError(e) }, 'watch scheduler close failed')),
      ...this.pending,
    ]);
    const grace = new AbortController();
    await Promise.race([done, sleep(graceMs, undefined, { signal: grace.signal }).catch(() => {})]);
    grace.abort(); // done first: stop the grace timer
    this.closing.abort();
    await done;
    if (this.o.subscriber) await this.o.subscriber.unsubscribe().catch(() => {});
  }
}

/** Early retry after a transient failure: 30 s doubling per consecutive error, capped at 15 min. */
const POLL_RETRY: Backoff = { initialMs: 30_000, maxMs: 15 * 60_000, jitter: 'none' };

/** The early retry's delay; a Retry-After wins when longer. */
export function retryDelay(consecutiveErrors: number, retryAfterMs: unknown): number {
  const backoff = backoffDelay(consecutiveErrors, POLL_RETRY);
  return typeof retryAfterMs === 'number' && retryAfterMs > backoff ? retryAfterMs : backoff;
}
