/**
 * `POST /hooks/registry` -> polls: each watch a notification envelope
 * concerns (hooks.ts matches, purely) is polled once, in the background,
 * after the pushed tag resolves to the pushed digest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type Backoff } from '../async/index.js';
import type { RegistryConfig } from '../config/index.js';
import type { ResolvedWatch } from './definition.js';
import { parseEnvelope, watchesForEnvelope, type RegistryEvent } from './hooks.js';
import type { WatchEngine } from './observe.js';

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
}

/** 50 ms doubling, 6 tries: ~3 s in all, about what docker-registry takes to write a pushed tag. */
const SETTLE: Backoff = { initialMs: 50, maxMs: Infinity, jitter: 'none' };
const SETTLE_TRIES = 6;

/** Handles a notification envelope: starts a poll of each matching watch. Throws FERRY_ERR_WATCH_HOOK_INVALID. */
export async function pollWatchesForEnvelope(d: HookPollDeps, body: unknown): Promise<{ events: number; polls: string[] }> {
  const events = parseEnvelope(body);
  const matched = watchesForEnvelope(events, await d.watches(), d.registries());
  for (const { watch, pushed } of matched.values()) {
    d.background(
      (async () => {
        await Promise.all(pushed.map((ev) => tagSettled(d, watch, ev)));
        await d.poll(watch.id);
      })(),
    );
  }
  return { events: events.length, polls: [...matched.keys()] };
}

/**
 * docker-registry sends the push event before it writes the tag, so a poll
 * started at once may not see it yet. Waits (bounded) until the tag
 * resolves to the pushed digest; polls anyway after that.
 */
async function tagSettled(d: HookPollDeps, w: ResolvedWatch, ev: RegistryEvent): Promise<void> {
  for (let attempt = 1; attempt <= SETTLE_TRIES && !d.closed(); attempt++) {
    const head = await d.engine.resolveDigest(`${w.repository}:${ev.tag}`, d.signal).catch(() => undefined);
    if (head && (!ev.digest || head.digest === ev.digest)) return;
    // Unref'd: a pending settle wait never holds the process open; close() stops the loop instead.
    await sleep(backoffDelay(attempt, SETTLE), undefined, { ref: false });
  }
}
