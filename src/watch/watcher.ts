/**
 * The watcher: polls (under a per-watch lock), change detection and
 * re-mirroring, mirror holdings, retention, schedules, and the views the API
 * serves. Emits `polled` (PollReport) after every poll and `retained`
 * (RetentionReport) after every retention pass, so tests and callers await
 * events instead of sleeping.
 */
import { EventEmitter } from 'node:events';
import { CronExpressionParser } from 'cron-parser';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig, WatchConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { decodeEvent, type ImageRecord, type ImageStore, type Producer } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { mergeWatches, validateApiWatch, type ResolvedWatch } from './definition.js';
import { watchError } from './errors.js';
import { parseEnvelope, watchesForEvent, type RegistryEvent } from './hooks.js';
import { WatchLocks, type LockMode, type WatchOp } from './lock.js';
import * as metrics from './metrics.js';
import { observe, type AnswerCache, type WatchEngine } from './observe.js';
import { planRetention } from './retention.js';
import { WatchScheduler } from './scheduler.js';
import { EMPTY_STATUS, WatchState, type ChangeEvent, type HeldEntry, type PollResult, type RefEntry, type WatchStatus } from './state.js';
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

export interface RetentionReport {
  id: string;
  keep: number;
  deleted: string[];
  protected: string[];
  refused: boolean;
  errors: string[];
  /** Digests the mirror holds for this watch after the pass. */
  held: string[];
}

export interface WatchView extends WatchStatus {
  id: string;
  source: 'config' | 'api';
  config: WatchConfig;
  nextPollAt: string | null;
}

export interface WatcherOptions {
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
  /** Scheduled polls run at once per process. @defaultValue 4 */
  concurrency?: number;
  /** @defaultValue 60 s */
  lockTtlMs?: number;
}

export class Watcher extends EventEmitter {
  readonly state: WatchState;
  readonly scheduler: WatchScheduler;
  private readonly locks: WatchLocks;
  private readonly logger: Logger;
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  private lastProblems = '';

  constructor(private readonly o: WatcherOptions) {
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
  }

  /** Schedules, record-event subscription, first polls of never-polled watches. */
  async start(): Promise<void> {
    await this.sync();
    if (this.o.subscriber) {
      const sub = this.o.subscriber;
      sub.on('message', (_channel: string, message: string) => this.onRecordEvent(message));
      await sub.subscribe(this.o.store.k.events);
    }
  }

  /** Config-file watches merged with API-defined ones. */
  async watches(): Promise<ResolvedWatch[]> {
    const { watches, problems } = mergeWatches(this.o.config().watch, await this.state.apiWatches());
    const said = problems.join('\n');
    if (said !== this.lastProblems) for (const p of problems) this.logger.error({ problem: p }, 'watch ignored');
    this.lastProblems = said;
    metrics.watchesGauge.set({ source: 'config' }, watches.filter((w) => w.source === 'config').length);
    metrics.watchesGauge.set({ source: 'api' }, watches.filter((w) => w.source === 'api').length);
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
    return op === 'retain' ? this.doRetain(w) : this.doPoll(w, trigger, jobId);
  }

  private cacheOf(id: string): AnswerCache {
    return {
      get: (fields) => this.state.cacheGet(id, fields),
      set: (entries) => this.state.cacheSet(id, entries),
      prune: (keep) => this.state.cachePrune(id, keep),
    };
  }

  private refOf(w: ResolvedWatch, tag: string): string {
    return `${w.repository}:${tag}`;
  }

  private async doPoll(w: ResolvedWatch, trigger: Trigger, jobId?: string): Promise<PollReport> {
    const started = performance.now();
    const now = () => new Date().toISOString();
    const prev = await this.state.status(w.id);
    const status: WatchStatus = { ...prev, polls: prev.polls + 1, lastPollAt: now() };
    const report: PollReport = { id: w.id, trigger, jobId, result: 'error', reason: null, selected: null, configFetches: 0, durationMs: 0 };
    try {
      const obs = await observe(this.o.engine, w, this.cacheOf(w.id), this.closing.signal);
      report.reason = obs.selection.reason;
      report.configFetches = obs.configFetches;
      if (!obs.selected) {
        report.result = 'no-match';
      } else {
        const { tag, digest } = obs.selected;
        const kind = detectChange(prev.selected, { tag, digest });
        report.selected = { tag, digest };
        const ref = this.refOf(w, tag);
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
      report.error = { code: isFerryError(e) ? e.code : 'FERRY_ERR_WATCH_POLL', message: describeError(e) };
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
    if (report.result !== 'error') await this.doRetain(w).catch((e) => this.logger.warn({ watch: w.id, err: describeError(e) }, 'retention failed'));
    this.emit('polled', report);
    return report;
  }

  /** The selection changed: force a copy, remember the ref and the event. */
  private async remirror(w: ResolvedWatch, ref: string, tag: string, prev: WatchStatus, digest: string, kind: Exclude<PollResult, 'unchanged' | 'no-match' | 'error'>, trigger: Trigger): Promise<ChangeEvent> {
    const at = new Date().toISOString();
    const { refs } = await this.reconcile(w); // note what the mirror holds before the record is reset
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

  /**
   * Records what the mirror holds for each ref the watch enqueued (from the
   * image records: digest of the last successful copy). New holdings get
   * increasing sequence numbers in the order the copies landed.
   */
  private async reconcile(w: ResolvedWatch): Promise<{ refs: Map<string, RefEntry>; records: Map<string, ImageRecord>; held: HeldEntry[] }> {
    const refs = await this.state.refs(w.id);
    const list = [...refs.keys()];
    const recs = await this.o.store.getMany(list);
    const records = new Map<string, ImageRecord>();
    list.forEach((ref, i) => recs[i] && records.set(ref, recs[i]!));
    const held = await this.state.held(w.id);
    const byKey = new Map(held.map((e) => [`${e.tag}@${e.digest}`, e]));
    const now = new Date().toISOString();
    const fresh: ImageRecord[] = [];
    const seen: HeldEntry[] = [];
    for (const [ref, r] of records) {
      if (!r.digest || !r.mirroredAt) continue;
      const e = byKey.get(`${refs.get(ref)!.tag}@${r.digest}`);
      if (!e || e.deletedAt) fresh.push(r);
      else seen.push({ ...e, lastSeenAt: now });
    }
    fresh.sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0));
    for (const r of fresh) {
      const e: HeldEntry = { tag: refs.get(r.ref)!.tag, ref: r.ref, digest: r.digest!, seq: await this.state.nextSeq(w.id), heldSince: now, lastSeenAt: now, deletedAt: null };
      byKey.set(`${e.tag}@${e.digest}`, e);
      seen.push(e);
    }
    await this.state.setHeld(w.id, seen);
    return { refs, records, held: [...byKey.values()] };
  }

  private async doRetain(w: ResolvedWatch): Promise<RetentionReport | undefined> {
    const { refs, records, held } = await this.reconcile(w);
    const keep = w.config.keep ?? 0;
    const live = () => [...new Set(held.filter((e) => !e.deletedAt).map((e) => e.digest))];
    if (keep < 1) {
      const report: RetentionReport = { id: w.id, keep: 0, deleted: [], protected: [], refused: false, errors: [], held: live() };
      this.emit('retained', report);
      return report;
    }
    const status = await this.state.status(w.id);
    const selectedRef = status.selected ? this.refOf(w, status.selected.tag) : undefined;
    const pinnedDigest = selectedRef ? records.get(selectedRef)?.digest : undefined;
    const owned = new Set([...refs].filter(([, e]) => e.owned).map(([ref]) => ref));
    const base = { keep, held, pinned: new Set(pinnedDigest ? [pinnedDigest] : []), owned };
    // Only look at other records when something is past `keep`, and only at this repository's:
    // a record of another repository lives in another mirror repository, which no delete here touches.
    let plan = planRetention({ ...base, records: [] });
    if (plan.delete.length) {
      const others = await this.o.store.getMany(await this.o.store.refsOfRepository(w.repository));
      plan = planRetention({ ...base, records: others.filter((r): r is ImageRecord => r !== undefined) });
    }
    const report: RetentionReport = { id: w.id, keep, deleted: [], protected: plan.protected, refused: false, errors: [], held: [] };
    const prev = status.retention;
    let deleteDisabled = prev?.deleteDisabled ?? false;
    const mirrorRepo = repositoryOf(parseReference(this.o.mirrorRefOf(this.refOf(w, 'latest'))));
    for (const digest of plan.delete) {
      try {
        await this.o.engine.deleteManifest(mirrorRepo, digest, this.closing.signal);
      } catch (e) {
        if (isFerryError(e) && e.code === 'FERRY_ERR_REGISTRY_DELETE_DISABLED') {
          report.refused = true;
          if (!deleteDisabled) this.logger.warn({ watch: w.id, mirror: mirrorRepo, err: describeError(e) }, 'the mirror refuses deletes: retention cannot remove old manifests');
          deleteDisabled = true;
          metrics.deletions.inc({ outcome: 'refused' });
          report.errors.push(describeError(e));
          break;
        }
        metrics.deletions.inc({ outcome: 'failed' });
        report.errors.push(describeError(e));
        this.logger.warn({ watch: w.id, digest, err: describeError(e) }, 'retention delete failed');
        continue;
      }
      deleteDisabled = false;
      report.deleted.push(digest);
      metrics.deletions.inc({ outcome: 'deleted' });
      const at = new Date().toISOString();
      for (const e of held) if (e.digest === digest && !e.deletedAt) e.deletedAt = at;
      await this.state.setHeld(w.id, held.filter((e) => e.digest === digest));
      // Records the watch created that still point at the deleted manifest would make admission rewrite to a missing image.
      const stale = [...owned].filter((ref) => records.get(ref)?.digest === digest);
      for (const ref of stale) await this.o.store.remove(ref);
      await this.state.dropRefs(w.id, stale);
      this.logger.info({ watch: w.id, mirror: mirrorRepo, digest, records: stale }, 'retention: deleted an old manifest from the mirror');
    }
    if (plan.protected.length) metrics.deletions.inc({ outcome: 'protected' }, plan.protected.length);
    status.retention = {
      keep,
      lastRunAt: new Date().toISOString(),
      deletedTotal: (prev?.deletedTotal ?? 0) + report.deleted.length,
      deleteDisabled,
      lastError: report.errors.at(-1) ?? (report.deleted.length ? null : (prev?.lastError ?? null)),
      protected: plan.protected,
    };
    await this.state.setStatus(w.id, status);
    report.held = live();
    this.emit('retained', report);
    return report;
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

  // ------------------------------------------------------------------ views

  async list(): Promise<WatchView[]> {
    const [watches, statuses] = await Promise.all([this.watches(), this.state.allStatuses()]);
    return watches.map((w) => this.view(w, statuses.get(w.id)));
  }

  async get(id: string): Promise<WatchView> {
    const w = await this.find(id);
    if (!w) throw watchError('NOT_FOUND', `no watch "${id}"`);
    return this.view(w, await this.state.status(id));
  }

  private view(w: ResolvedWatch, s: WatchStatus | undefined): WatchView {
    let nextPollAt: string | null = null;
    try {
      nextPollAt = CronExpressionParser.parse(w.config.schedule).next().toISOString();
    } catch {
      /* validated at load; never here */
    }
    return { id: w.id, source: w.source, config: w.config, nextPollAt, ...(s ?? EMPTY_STATUS) };
  }

  async history(id: string): Promise<{ id: string; events: ChangeEvent[]; held: HeldEntry[] }> {
    const w = await this.find(id);
    const [events, held] = await Promise.all([this.state.events(id), this.state.held(id)]);
    if (!w && events.length === 0 && held.length === 0) throw watchError('NOT_FOUND', `no watch "${id}"`);
    return { id, events, held: held.sort((a, b) => b.seq - a.seq) };
  }

  // ------------------------------------------------------------------ editing

  /** Creates or replaces an API-defined watch. Config-file watches are read-only. */
  async put(id: string, body: unknown): Promise<{ created: boolean; watch: WatchView }> {
    const existing = await this.find(id);
    if (existing?.source === 'config') throw watchError('READ_ONLY', `watch "${id}" is defined in the config file`);
    const config = validateApiWatch(id, body);
    const created = await this.state.putApiWatch({ ...config, id });
    await this.sync(); // polls a new watch at once
    if (!created) this.background(this.poll(id, 'api'));
    return { created, watch: await this.get(id) };
  }

  async remove(id: string): Promise<void> {
    const existing = await this.find(id);
    if (!existing) throw watchError('NOT_FOUND', `no watch "${id}"`);
    if (existing.source === 'config') throw watchError('READ_ONLY', `watch "${id}" is defined in the config file`);
    await this.state.deleteApiWatch(id);
    await this.state.forget(id);
    await this.scheduler.cancelRetry(id);
    await this.sync();
  }

  // ------------------------------------------------------------------ hooks

  /** Handles a notification envelope: starts a poll of each matching watch (in the background). Throws HOOK_INVALID. */
  async notify(body: unknown): Promise<{ events: number; polls: string[] }> {
    const events = parseEnvelope(body);
    const matched = new Map<string, { w: ResolvedWatch; pushed: RegistryEvent[] }>();
    const watches = await this.watches();
    for (const ev of events) {
      for (const w of watchesForEvent(ev, watches, this.o.config().registries)) {
        const m = matched.get(w.id) ?? { w, pushed: [] };
        m.pushed.push(ev);
        matched.set(w.id, m);
      }
    }
    for (const { w, pushed } of matched.values()) {
      this.background(
        (async () => {
          await Promise.all(pushed.map((ev) => this.settled(w, ev)));
          await this.poll(w.id, 'hook', 'defer');
        })(),
      );
    }
    return { events: events.length, polls: [...matched.keys()] };
  }

  /**
   * docker-registry sends the push event before it writes the tag, so a poll
   * started at once may not see it yet. Waits (bounded, ~3 s) until the tag
   * resolves to the pushed digest.
   */
  private async settled(w: ResolvedWatch, ev: RegistryEvent): Promise<void> {
    for (let attempt = 0, delay = 50; attempt < 6 && !this.closed; attempt++, delay *= 2) {
      const head = await this.o.engine.resolveDigest(`${w.repository}:${ev.tag}`, this.closing.signal).catch(() => undefined);
      if (head && (!ev.digest || head.digest === ev.digest)) return;
      await new Promise((r) => setTimeout(r, delay).unref());
    }
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
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.closing.abort();
    await done;
    if (this.o.subscriber) await this.o.subscriber.unsubscribe().catch(() => {});
  }
}

/** Early retry after a transient failure: 30 s doubling per consecutive error, capped at 15 min; Retry-After wins when longer. */
export function retryDelay(consecutiveErrors: number, retryAfterMs: unknown): number {
  const backoff = Math.min(30_000 * 2 ** Math.max(0, consecutiveErrors - 1), 15 * 60_000);
  return typeof retryAfterMs === 'number' && retryAfterMs > backoff ? retryAfterMs : backoff;
}
