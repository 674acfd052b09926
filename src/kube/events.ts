/**
 * Kubernetes Events, the way client-go's recorder writes them, for ferry's
 * FerryRewrote / FerryDenied / FerryBlockedImageInUse (SPEC "Cluster
 * awareness"). `record()` only touches memory, so it is safe anywhere, the
 * admission path included; a background flush does the API writes:
 *
 * - the first write of a distinct event (object, reason, message) creates a
 *   core/v1 Event carrying every occurrence seen so far; later occurrences
 *   bump its `count` and `lastTimestamp`, one PATCH per event per flush, so a
 *   crash-looping Deployment denied a thousand times is one Event, x1000;
 * - a PATCH that finds the Event gone (the API server expires them, an hour
 *   by default) creates it again under the same name;
 * - memory is bounded (an LRU of distinct events), writes are rate limited
 *   (token bucket), concurrent requests capped and each has a deadline;
 * - API errors never reach the caller: logged at most once per interval,
 *   transport errors, 429 and 5xx retried at the next flush, other refusals
 *   (403 without RBAC for events, 422) dropped and counted.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { EventCache, TokenBucket, truncateMessage, type EventEntry, type RecordedEvent } from './event-cache.js';
import type { KubeClient } from './client.js';
import { describeApiError, statusCodeOf } from './api-calls.js';
import { kubeEventSink, type EventSink } from './event-sink.js';
import { eventsDropped, eventsWritten } from './metrics.js';

export interface EventRecorderOptions {
  sink: EventSink;
  logger: Logger;
  /** Time between background flushes. @defaultValue 5000 */
  flushIntervalMs?: number;
  /** Distinct events kept in memory (client-go keeps 4096). @defaultValue 4096 */
  maxKeys?: number;
  /** API writes per second on average. @defaultValue 5 */
  writesPerSecond?: number;
  /** API writes allowed at once after a quiet spell. @defaultValue 25 */
  burst?: number;
  /** API requests in flight at once. @defaultValue 4 */
  concurrency?: number;
  /** `reportingInstance`. @defaultValue os.hostname() (the pod's name in a cluster) */
  instance?: string;
  /** Milliseconds since the epoch; injected by tests. @defaultValue Date.now */
  now?: () => number;
}

export const EVENT_RECORDER_DEFAULTS = {
  flushIntervalMs: 5000,
  maxKeys: 4096,
  writesPerSecond: 5,
  burst: 25,
  concurrency: 4,
  /** Deadline of one API request. */
  requestTimeoutMs: 10_000,
} as const;

/** A recorder writing through the process's Kubernetes client (what roles use). */
export function createEventRecorder(
  client: KubeClient,
  logger: Logger,
  opts: Omit<EventRecorderOptions, 'sink' | 'logger'> & { requestTimeoutMs?: number } = {},
): EventRecorder {
  const sink = kubeEventSink(client, { timeoutMs: opts.requestTimeoutMs ?? EVENT_RECORDER_DEFAULTS.requestTimeoutMs });
  return new EventRecorder({ ...opts, sink, logger: logger.child({ component: 'events' }) });
}

/** `source.component` and `reportingComponent` of every Event ferry writes. */
export const EVENT_COMPONENT = 'ferry';

/** What roles hold: record now, written later. */
export interface EventRecorderLike {
  record(e: RecordedEvent): void;
}

/** The longest event name the API accepts is 253 characters; the suffix takes up to 25. */
const MAX_NAME_PREFIX = 253 - 26;

/** `<object>.<time><random>`, as client-go names them (time first, so names sort by age); unique across replicas. */
function eventName(objectName: string, now: number): string {
  const prefix = objectName.slice(0, MAX_NAME_PREFIX).replace(/[^a-z0-9]+$/, '') || 'ferry';
  return `${prefix}.${now.toString(16)}${randomBytes(4).toString('hex')}`;
}

export class EventRecorder implements EventRecorderLike {
  private readonly cache: EventCache;
  private readonly bucket: TokenBucket;
  private readonly sink: EventSink;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly instance: string;
  private readonly concurrency: number;
  private readonly intervalMs: number;
  private readonly timer: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private flushing = 0;
  private closed = false;
  private lastErrorLogAt = -Infinity;
  private errorsSinceLog = 0;

  constructor(opts: EventRecorderOptions) {
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as EventRecorderOptions;
    const o = { ...EVENT_RECORDER_DEFAULTS, ...given };
    this.sink = o.sink;
    this.logger = o.logger;
    this.now = o.now ?? Date.now;
    this.instance = o.instance ?? hostname();
    this.concurrency = Math.max(1, o.concurrency);
    this.intervalMs = o.flushIntervalMs;
    this.cache = new EventCache(Math.max(1, o.maxKeys));
    this.bucket = new TokenBucket(o.writesPerSecond, Math.max(1, o.burst), this.now());
    // A flush still running (API slow or away) makes the next tick a no-op: writes never pile up.
    this.timer = setInterval(() => {
      if (this.flushing === 0) void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Remembers one occurrence; never throws, never waits. */
  record(e: RecordedEvent): void {
    try {
      if (this.closed) {
        eventsDropped.inc({ cause: 'closed' });
        return;
      }
      const event: RecordedEvent = {
        namespace: e.namespace,
        involvedObject: { ...e.involvedObject },
        type: e.type,
        reason: e.reason,
        message: truncateMessage(String(e.message)),
      };
      const { evicted } = this.cache.add(event, this.now());
      if (evicted && evicted.pending > 0) eventsDropped.inc({ cause: 'overflow' }, evicted.pending);
    } catch {
      // Events are a courtesy: nothing about them may break the caller.
    }
  }

  /** Occurrences recorded and not yet written. */
  get backlog(): number {
    return this.cache.backlog();
  }

  /** Writes what is due now (within the rate limit); resolves when those writes settled. Never rejects. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.flushOnce());
    this.chain = run;
    return run;
  }

  /** Stops the background flush, writes what it can within `timeoutMs`, then records nothing more. */
  async close(timeoutMs = 3000): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    const done = this.flush();
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async flushOnce(): Promise<void> {
    this.flushing++;
    try {
      const due = this.cache.due();
      let next = 0;
      let apiAway = false;
      const worker = async (): Promise<void> => {
        // Out of tokens, or the API not answering: the rest stays pending (and keeps aggregating) until the next flush.
        while (next < due.length && !apiAway) {
          if (!this.bucket.take(this.now())) return;
          if ((await this.write(due[next++]!)) === 'retry') apiAway = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, worker));
    } catch (e) {
      this.noteError(e, 'flush');
    } finally {
      this.flushing--;
    }
  }

  /** One write of one entry; 'retry' when the API is away or overloaded (transport error, 429, 5xx). */
  private async write(entry: EventEntry): Promise<'ok' | 'retry' | 'rejected'> {
    const sending = entry.pending;
    entry.pending = 0;
    entry.sending = sending;
    const count = entry.written + sending;
    const { event } = entry;
    try {
      if (entry.created) {
        try {
          await this.sink.bump(event.namespace, entry.name!, count, new Date(entry.lastAt));
        } catch (e) {
          if (statusCodeOf(e) !== 404) throw e;
          entry.created = false; // expired on the server: create it again, count and all
          await this.create(entry, count);
        }
      } else {
        await this.create(entry, count);
      }
      entry.written = count;
      eventsWritten.inc({ reason: event.reason, type: event.type }, sending);
      return 'ok';
    } catch (e) {
      const status = statusCodeOf(e);
      const retry = status === undefined || status === 429 || status >= 500;
      if (retry && !entry.evicted) entry.pending += sending;
      else eventsDropped.inc({ cause: retry ? 'overflow' : 'rejected' }, sending);
      this.noteError(e, entry.created ? 'patch' : 'create', event);
      return retry ? 'retry' : 'rejected';
    } finally {
      entry.sending = 0;
    }
  }

  /** Creates the entry's Event; a retried create that finds it AlreadyExists (the first one did land) bumps it instead. */
  private async create(entry: EventEntry, count: number): Promise<void> {
    const { event } = entry;
    entry.name ??= eventName(event.involvedObject.name, this.now());
    try {
      await this.sink.create({
        namespace: event.namespace,
        name: entry.name,
        involvedObject: event.involvedObject,
        type: event.type,
        reason: event.reason,
        message: event.message,
        count,
        firstTimestamp: new Date(entry.firstAt),
        lastTimestamp: new Date(entry.lastAt),
        component: EVENT_COMPONENT,
        instance: this.instance,
      });
    } catch (e) {
      if (statusCodeOf(e) !== 409) throw e;
      await this.sink.bump(event.namespace, entry.name, count, new Date(entry.lastAt));
    }
    entry.created = true;
  }

  private noteError(e: unknown, verb: string, event?: RecordedEvent): void {
    this.errorsSinceLog++;
    const now = this.now();
    if (now - this.lastErrorLogAt < this.intervalMs) return;
    const status = statusCodeOf(e);
    this.logger.warn(
      {
        verb,
        status,
        err: describeApiError(e),
        ...(event ? { reason: event.reason, namespace: event.namespace, object: `${event.involvedObject.kind}/${event.involvedObject.name}` } : {}),
        errors: this.errorsSinceLog,
        ...(status === 403 ? { hint: 'grant ferry\'s service account "create" and "patch" on core "events" (deploy/ RBAC)' } : {}),
      },
      'cannot write Kubernetes Events (not retried when the API refused; retried at the next flush otherwise)',
    );
    this.lastErrorLogAt = now;
    this.errorsSinceLog = 0;
  }
}
