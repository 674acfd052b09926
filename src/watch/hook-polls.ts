/**
 * `POST /hooks/registry` -> polls and re-checks. Each watch a delivery
 * concerns (hooks.ts matches, purely) is polled once, in the background,
 * after the pushed tag resolves to the pushed digest. In-use tags no watch
 * owns (pods run them; drift refresh would find the move at its next run)
 * are re-checked at once the way refresh checks one tag: a HEAD upstream,
 * compared with the record, a forced copy when it moved. The hook itself is
 * never trusted: it only says "look now", ferry asks upstream itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../async/index.js';
import type { RegistryConfig } from '../config/index.js';
import { describeError } from '../errors.js';
import type { InUseStore } from '../in-use/index.js';
import type { ImageStore, Producer } from '../queue/index.js';
import { refreshTarget, remirrorDrifted, type RefreshTarget } from '../refresh/index.js';
import type { ResolvedWatch } from './definition.js';
import { HookDelivery, type HookFormat, type RegistryEvent } from './hook-formats/index.js';
import { inUseRefsForEvents, parseEnvelope, watchesForEnvelope } from './hooks.js';
import type { WatchEngine } from './observe.js';

/** What an in-use re-check needs (the watcher's own connections and stores). */
export interface HookRecheckDeps {
  inUse: Pick<InUseStore, 'inUseRefs'>;
  store: Pick<ImageStore, 'getMany' | 'update'>;
  producer: Pick<Producer, 'enqueueNow'>;
  redis: Redis;
  /** queue.prefix (hot reload). */
  prefix(): string;
  mirrorRefOf(ref: string): string;
  logger?: Logger | undefined;
}

/** What hook polls need from the watcher. */
export interface HookPollDeps {
  watches(): Promise<ResolvedWatch[]>;
  registries(): Record<string, RegistryConfig>;
  engine: Pick<WatchEngine, 'resolveDigest'>;
  /** Aborted when the watcher closes: stops the registry requests in flight. */
  signal: AbortSignal;
  closed(): boolean;
  /** Polls the watch (trigger `hook`), or notes the request for the run holding its lock. */
  poll(id: string): Promise<unknown>;
  /** Runs a task the watcher's close() waits for. */
  background(task: Promise<unknown>): void;
  /** With the in-use index: pushes of tags pods run are re-checked too. Absent: hooks poll watches only. */
  recheck?: HookRecheckDeps | undefined;
}

export interface HookOutcome {
  format: HookFormat;
  events: number;
  /** Watches polled. */
  polls: string[];
  /** In-use tags re-checked upstream (not owned by a watch). */
  rechecks: string[];
  note?: string;
}

/** 50 ms doubling, 6 tries: ~3 s in all, about what docker-registry takes to write a pushed tag. */
const SETTLE: Backoff = { initialMs: 50, maxMs: Infinity, jitter: 'none' };
const SETTLE_TRIES = 6;

/**
 * Handles one delivery (a HookDelivery from hook-formats, or a bare
 * distribution envelope): starts a poll of each matching watch and a
 * re-check of each matching in-use tag. Throws FERRY_ERR_WATCH_HOOK_INVALID.
 */
export async function pollWatchesForEnvelope(d: HookPollDeps, body: unknown): Promise<HookOutcome> {
  const delivery = body instanceof HookDelivery ? body : new HookDelivery('distribution', parseEnvelope(body));
  const { events } = delivery;
  const matched = watchesForEnvelope(events, await d.watches(), d.registries());
  for (const { watch, pushed } of matched.values()) {
    d.background(
      (async () => {
        await Promise.all(pushed.map((ev) => ev.tag && tagSettled(d, `${watch.repository}:${ev.tag}`, ev)));
        await d.poll(watch.id);
      })(),
    );
  }
  const rechecks = d.recheck ? await recheckInUse(d, d.recheck, events) : [];
  return { format: delivery.format, events: events.length, polls: [...matched.keys()], rechecks, ...(delivery.note ? { note: delivery.note } : {}) };
}

/** Starts the re-checks; resolves with the refs being re-checked. */
async function recheckInUse(d: HookPollDeps, r: HookRecheckDeps, events: readonly RegistryEvent[]): Promise<string[]> {
  if (!events.some((ev) => ev.action === 'push' && ev.tag)) return [];
  const refs = inUseRefsForEvents(events, await r.inUse.inUseRefs(), d.registries());
  if (!refs.length) return [];
  // refresh's own rule for what may be re-copied: mirrored tag records, not a watch's, not an import's.
  const targets = (await r.store.getMany(refs)).map((rec) => rec && refreshTarget(rec)).filter((t): t is RefreshTarget => t !== undefined);
  for (const t of targets) {
    const ev = events.find((e) => e.tag && t.ref.endsWith(`/${e.repository}:${e.tag}`));
    d.background(
      recheckOne(d, r, t.ref, t.record, ev).catch((e: unknown) => r.logger?.warn({ ref: t.ref, err: describeError(e) }, 'hook: re-check of an in-use tag failed')),
    );
  }
  return targets.map((t) => t.ref);
}

async function recheckOne(d: HookPollDeps, r: HookRecheckDeps, ref: string, record: RefreshTarget['record'], ev: RegistryEvent | undefined): Promise<void> {
  if (ev) await tagSettled(d, ref, ev);
  if (d.closed()) return;
  const head = await d.engine.resolveDigest(ref, d.signal);
  const held = record.sourceDigest ?? record.digest;
  if (!head || head.digest === held) return;
  await remirrorDrifted({ store: r.store, redis: r.redis, prefix: r.prefix(), producer: r.producer, mirrorRefOf: r.mirrorRefOf }, { ref, record }, new Date().toISOString());
  r.logger?.info({ ref, oldDigest: held, newDigest: head.digest }, 'hook: an in-use tag moved upstream; re-mirroring');
}

/**
 * docker-registry sends the push event before it writes the tag, so a poll
 * started at once may not see it yet. Waits (bounded) until the tag
 * resolves to the pushed digest; polls anyway after that.
 */
async function tagSettled(d: HookPollDeps, ref: string, ev: RegistryEvent): Promise<void> {
  for (let attempt = 1; attempt <= SETTLE_TRIES && !d.closed(); attempt++) {
    const head = await d.engine.resolveDigest(ref, d.signal).catch(() => undefined);
    if (head && (!ev.digest || head.digest === ev.digest)) return;
    // Unref'd: a pending settle wait never holds the process open; close() stops the loop instead.
    await sleep(backoffDelay(attempt, SETTLE), undefined, { ref: false });
  }
}
