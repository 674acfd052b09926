/**
 * One drift-refresh run (SPEC "Cluster awareness"): mirrored tags are
 * re-resolved upstream, one manifest HEAD each, and re-mirrored (a forced
 * copy) when the tag moved away from what the mirror holds.
 *
 * - Targets: `refresh.inUseOnly` ? the tags some pod names now (in-use
 *   index) : every mirrored tag record; select.ts says which records count.
 * - Budget: per upstream host at most `refresh.maxRequestsPerRegistry`
 *   HEADs per run, least recently checked first (check times in Redis), up
 *   to 8 at once per host after the first; the engine's per-host rate
 *   limiter paces them. An unchanged tag costs that HEAD and nothing else
 *   (test/refresh/unchanged-cost.test.ts). A 429 whose Retry-After the
 *   engine would not wait out (or an unreachable host) stops that host for
 *   the run: its remaining tags are deferred, never hammered. A Retry-After
 *   is kept in Redis, and later runs do not ask that host until it passed.
 * - A move: `driftedAt` on the record, the old mirror digest noted as
 *   superseded (src/gc: deleted once no pod ran it for gc.keepUnusedFor),
 *   then the forced copy, which moves the tag only: the old manifest stays
 *   in the mirror for the pods that run it by digest.
 *
 * The caller runs one at a time across replicas (src/watch/maintenance.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pool } from '../async/index.js';
import type { FerryConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { mirrorRepositoryOf, noteSuperseded } from '../gc/index.js';
import type { InUseStore } from '../in-use/index.js';
import type { NotifySink } from '../notify/index.js';
import type { ImageRecord, ImageStore, Producer } from '../queue/index.js';
import { codeOf } from '../registry/index.js';
import * as metrics from './metrics.js';
import { refreshTarget, selectForRun, type RefreshTarget } from './select.js';

/** What refresh needs from the registry engine (RegistryEngine implements it), against upstream registries. */
export interface RefreshEngine {
  resolveDigest(ref: string, signal?: AbortSignal): Promise<{ digest: string } | undefined>;
  /** One token for all these references' repositories (best effort; RegistryEngine.prepareReads). */
  prepareReads?(refs: string[], signal?: AbortSignal): Promise<void>;
}

export interface RefreshDeps {
  config(): FerryConfig;
  redis: Redis;
  store: ImageStore;
  producer: Pick<Producer, 'enqueueNow'>;
  engine: RefreshEngine;
  /** The in-use index; needed with `refresh.inUseOnly` (the default). */
  inUse?: Pick<InUseStore, 'inUseRefs' | 'live'> | undefined;
  mirrorRefOf(ref: string): string;
  logger: Logger;
  /** @defaultValue Date.now */
  now?: () => number;
  /** Aborted on shutdown: the tags not yet checked count as deferred. */
  signal?: AbortSignal;
  /** Queues a `drifted` event per moved tag (`notify:`); absent: none. */
  notifier?: NotifySink;
}

export interface RefreshReport {
  startedAt: string;
  finishedAt: string;
  inUseOnly: boolean;
  /** Set when the run checked nothing at all, and why. */
  skipped: string | null;
  /** E.g. that the pod watch is not live, so the tags it last saw in use were checked. */
  note: string | null;
  /** Tags that were targets this run (before the budget). */
  targets: number;
  /** HEADs answered (moved or not). */
  checked: number;
  moved: number;
  /** Left for a later run: over a host's budget, or the host was stopped. */
  deferred: number;
  errors: number;
  moves: { ref: string; oldDigest: string | null; newDigest: string }[];
  failures: { ref: string; error: string }[];
  /** Tags that no longer exist upstream (left alone: the mirror keeps what it has). */
  missing: string[];
  /** Hosts this run stopped asking, or did not ask because their Retry-After has not passed yet. */
  stoppedHosts: { host: string; reason: string; retryAfterMs: number | null }[];
}

/** Every Redis key src/refresh writes. */
export function refreshKeys(prefix: string) {
  return {
    /** sorted set ref -> ms of its last check. */
    checked: `${prefix}:refresh:checked`,
    /** string: JSON RefreshReport of the last run. */
    report: `${prefix}:refresh:last`,
    /** hash upstream host -> ms until which its last Retry-After asks not to be asked. */
    retryAfter: `${prefix}:refresh:retry-after`,
  };
}

/** Hosts checked at once. */
const HOSTS_AT_ONCE = 4;

/**
 * HEADs in flight per host once its first one was answered. One after
 * another, a far registry costs a round trip per tag (~75 ms a tag at 50 ms
 * RTT in bench/resync); 8 hide it, and stay few: the engine's per-host
 * limiter still paces them under any budget, and the first HEAD goes alone
 * so that a host answering 429 (or not at all) is asked once, not 8 times.
 */
const HEADS_PER_HOST = 8;

const iso = (ms: number): string => new Date(ms).toISOString();

export async function runRefresh(d: RefreshDeps): Promise<RefreshReport> {
  const now = d.now ?? Date.now;
  const cfg = d.config();
  const k = refreshKeys(cfg.queue.prefix);
  const report: RefreshReport = {
    startedAt: iso(now()),
    finishedAt: '',
    inUseOnly: cfg.refresh.inUseOnly,
    skipped: null,
    note: null,
    targets: 0,
    checked: 0,
    moved: 0,
    deferred: 0,
    errors: 0,
    moves: [],
    failures: [],
    missing: [],
    stoppedHosts: [],
  };
  let records: ImageRecord[];
  if (cfg.refresh.inUseOnly) {
    if (!d.inUse) {
      report.skipped = 'refresh.inUseOnly is true but ferry watches no pods here (no kubeconfig or in-cluster account, or kubernetes.podInformer: off); set refresh.inUseOnly: false to check every mirrored tag';
      return finish(d, k.report, report, now);
    }
    // Not live: still check what the index last saw in use. Refresh only ever re-copies, so stale is harmless.
    if (!(await d.inUse.live()).live) report.note = 'the pod watch is not live: checked the tags it last saw in use';
    records = (await d.store.getMany(await d.inUse.inUseRefs())).filter((r): r is ImageRecord => r !== undefined);
  } else {
    records = await d.store.listAll();
  }
  const targets = records.map(refreshTarget).filter((t): t is RefreshTarget => t !== undefined);
  report.targets = targets.length;
  const waiting = await waitingHosts(d.redis, k.retryAfter, now());
  for (const [host, until] of waiting) {
    if (targets.some((t) => t.host === host)) report.stoppedHosts.push({ host, reason: `its Retry-After lasts until ${iso(until)}`, retryAfterMs: until - now() });
  }
  const asking = targets.filter((t) => !waiting.has(t.host));
  const { batches, deferred } = selectForRun(asking, await lastChecked(d.redis, k.checked, asking.map((t) => t.ref)), cfg.refresh.maxRequestsPerRegistry);
  report.deferred = deferred.length + targets.length - asking.length;
  const checking = pool(batches, HOSTS_AT_ONCE, d.signal, (b, signal) => checkHost(d, b.targets, report, k, now, signal));
  try {
    await checking;
  } catch (e) {
    if (!d.signal?.aborted) throw e;
    report.note = 'stopped early: ferry is shutting down; the tags not checked wait for the next run';
  }
  await pruneChecked(d, k.checked);
  return finish(d, k.report, report, now);
}

/**
 * One host's tags, in order: the first alone, then up to HEADS_PER_HOST at
 * once. Once the host stopped answering (or ferry shuts down) nothing more
 * is sent; the tags not answered are deferred.
 */
async function checkHost(d: RefreshDeps, targets: readonly RefreshTarget[], report: RefreshReport, k: ReturnType<typeof refreshKeys>, now: () => number, signal: AbortSignal): Promise<void> {
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && !signal.aborted && next < targets.length) {
      if (!(await checkOne(d, targets[next++]!, report, k, now, signal))) {
        stopped = true;
        report.deferred++; // it was not answered
      }
    }
  };
  // Tokens expire between runs (Docker Hub's after 300 s): one token request for every repository of the
  // batch instead of one per repository, so a run of unchanged tags stays at one HEAD each.
  if (targets.length > 1) await d.engine.prepareReads?.(targets.map((t) => t.ref), signal);
  const first = targets.slice(0, 1);
  if (first.length && !(await checkOne(d, first[0]!, report, k, now, signal))) {
    report.deferred += targets.length;
    return;
  }
  next = first.length;
  await Promise.all(Array.from({ length: Math.min(HEADS_PER_HOST, targets.length - next) }, worker));
  report.deferred += targets.length - next; // never sent
}

/** One HEAD and what follows; false: the host stopped answering for this run (stop asking it). */
async function checkOne(d: RefreshDeps, t: RefreshTarget, report: RefreshReport, k: ReturnType<typeof refreshKeys>, now: () => number, signal: AbortSignal): Promise<boolean> {
  const checkedKey = k.checked;
  let head: { digest: string } | undefined;
  try {
    head = await d.engine.resolveDigest(t.ref, signal);
  } catch (e) {
    const stop = hostStop(e);
    if (stop) {
      // HEADs in flight together may all be refused: the host is reported once
      if (report.stoppedHosts.some((h) => h.host === t.host)) return false;
      report.stoppedHosts.push({ host: t.host, reason: describeError(e), retryAfterMs: stop.retryAfterMs });
      if (stop.retryAfterMs !== null) await d.redis.hset(k.retryAfter, t.host, String(now() + stop.retryAfterMs));
      d.logger.warn({ host: t.host, ref: t.ref, retryAfterMs: stop.retryAfterMs, err: describeError(e) }, 'refresh: registry stopped answering; its remaining tags wait for the next run');
      return false;
    }
    if (signal.aborted) return false;
    report.errors++;
    report.failures.push({ ref: t.ref, error: describeError(e) });
    d.logger.warn({ ref: t.ref, err: describeError(e) }, 'refresh: cannot resolve the tag upstream');
    // Counted as checked for the order, so that one broken tag does not take the front of the queue every run.
    await d.redis.zadd(checkedKey, now(), t.ref);
    return true;
  }
  report.checked++;
  metrics.checked.inc();
  await d.redis.zadd(checkedKey, now(), t.ref);
  if (!head) {
    report.missing.push(t.ref);
    return true;
  }
  const held = t.record.sourceDigest ?? t.record.digest;
  if (head.digest !== held) await remirror(d, t, head.digest, report, now);
  return true;
}

/**
 * Answers that say "stop asking this host now": a 429 (with a Retry-After
 * the engine would not wait out in place) and an unreachable host. Anything
 * else is about one tag.
 */
function hostStop(e: unknown): { retryAfterMs: number | null } | undefined {
  if (!isFerryError(e)) return undefined;
  const ra = e.details?.retryAfterMs;
  if (typeof ra === 'number') return { retryAfterMs: ra };
  if (e.code === codeOf('RATE_LIMITED') || e.code === codeOf('UNREACHABLE')) return { retryAfterMs: null };
  return undefined;
}

/** What re-mirroring a drifted tag writes to. */
export interface DriftDeps {
  store: Pick<ImageStore, 'update'>;
  redis: Redis;
  prefix: string;
  producer: Pick<Producer, 'enqueueNow'>;
  mirrorRefOf(ref: string): string;
}

/**
 * A mirrored tag moved upstream (found by a refresh run or a registry hook):
 * note the drift on the record, keep the old manifest for the pods that run
 * it by digest until GC finds it unused, and force a copy of the tag.
 */
export async function remirrorDrifted(d: DriftDeps, t: Pick<RefreshTarget, 'ref' | 'record'>, at: string): Promise<void> {
  await d.store.update(t.ref, { driftedAt: at });
  const repository = mirrorRepositoryOf(t.record.mirrorRef);
  if (repository && t.record.digest) await noteSuperseded(d.redis, d.prefix, { repository, digest: t.record.digest, ref: t.ref, supersededAt: at });
  // The record's own source: a re-copy does not make an admission record the watch's (or anyone else's).
  await d.producer.enqueueNow({ ref: t.ref, mirrorRef: d.mirrorRefOf(t.ref), source: t.record.source, force: true });
}

async function remirror(d: RefreshDeps, t: RefreshTarget, newDigest: string, report: RefreshReport, now: () => number): Promise<void> {
  const at = iso(now());
  await remirrorDrifted({ store: d.store, redis: d.redis, prefix: d.config().queue.prefix, producer: d.producer, mirrorRefOf: d.mirrorRefOf }, t, at);
  report.moved++;
  report.moves.push({ ref: t.ref, oldDigest: t.record.sourceDigest ?? t.record.digest, newDigest });
  metrics.moved.inc();
  const oldDigest = t.record.sourceDigest ?? t.record.digest;
  d.logger.info({ ref: t.ref, oldDigest, newDigest }, 'refresh: the tag moved upstream; re-mirroring');
  // The same drift seen again by a later run (before the copy landed) has the same event id: delivered once.
  await d.notifier
    ?.emit({ event: 'drifted', ref: t.ref, mirrorRef: t.record.mirrorRef, oldDigest, newDigest, at })
    .catch((e) => d.logger.warn({ ref: t.ref, err: describeError(e) }, 'notify: could not queue the drifted event'));
}

/** Hosts whose Retry-After has not passed yet -> until when (ms); the passed ones are forgotten. */
async function waitingHosts(redis: Redis, key: string, at: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const passed: string[] = [];
  for (const [host, until] of Object.entries(await redis.hgetall(key))) {
    if (Number(until) > at) out.set(host, Number(until));
    else passed.push(host);
  }
  if (passed.length) await redis.hdel(key, ...passed);
  return out;
}

async function lastChecked(redis: Redis, key: string, refs: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!refs.length) return out;
  const pipe = redis.pipeline();
  for (const ref of refs) pipe.zscore(key, ref);
  const res = (await pipe.exec()) ?? [];
  refs.forEach((ref, n) => {
    const v = res[n]?.[1];
    if (typeof v === 'string') out.set(ref, Number(v));
  });
  return out;
}

/** Forgets check times of refs whose record is gone (the set follows the records, not history). */
async function pruneChecked(d: RefreshDeps, key: string): Promise<void> {
  const refs = await d.redis.zrange(key, 0, -1);
  if (!refs.length) return;
  const pipe = d.redis.pipeline();
  for (const ref of refs) pipe.exists(d.store.k.image(ref));
  const res = (await pipe.exec()) ?? [];
  const gone = refs.filter((_r, n) => res[n]?.[1] === 0);
  if (gone.length) await d.redis.zrem(key, ...gone);
}

async function finish(d: RefreshDeps, key: string, report: RefreshReport, now: () => number): Promise<RefreshReport> {
  report.finishedAt = iso(now());
  await d.redis.set(key, JSON.stringify(report));
  const { checked, moved, deferred, errors } = report;
  if (report.skipped) d.logger.info({ reason: report.skipped }, 'refresh skipped');
  else d.logger.info({ checked, moved, deferred, errors, stoppedHosts: report.stoppedHosts.map((h) => h.host) }, 'refresh run finished');
  return report;
}
