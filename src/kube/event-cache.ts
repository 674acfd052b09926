/**
 * What the event recorder keeps in memory, and nothing else: one entry per
 * distinct event (client-go's EventCorrelator keys its LRU the same way), a
 * token bucket for API writes, and message truncation. No I/O, no timers:
 * the recorder (events.ts) drives it with its own clock.
 */

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (core/v1 ObjectReference). */
export interface InvolvedObject {
  kind: string;
  name: string;
  /** Defaults to the event's namespace (the API server requires the two to agree). */
  namespace?: string;
  /** `kubectl describe` lists only events whose uid matches the object's, when it has one. */
  uid?: string;
  apiVersion?: string;
}

export interface RecordedEvent {
  namespace: string;
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
}

/** One distinct event: its API object (once created) and the occurrences not yet written. */
export interface EventEntry {
  readonly key: string;
  readonly event: RecordedEvent;
  /** Name of the core/v1 Event; chosen at the first write and reused (a retried create that finds it AlreadyExists patches it). */
  name: string | undefined;
  /** The API server holds this Event (a create answered). */
  created: boolean;
  /** The `count` the API object holds. */
  written: number;
  /** Occurrences recorded but not yet written. */
  pending: number;
  /** Occurrences in the write now in flight. */
  sending: number;
  firstAt: number;
  lastAt: number;
  /** Pushed out of the cache: whatever it still holds is lost. */
  evicted: boolean;
}

/** Kubernetes caps an Event's note at 1 KiB (events.k8s.io); core/v1 messages are cut the same way. */
export const MAX_MESSAGE_BYTES = 1024;
const ELLIPSIS = '...';
const encoder = new TextEncoder();

/** `message` cut to `maxBytes` of UTF-8 (never inside a character), `...` marking the cut. */
export function truncateMessage(message: string, maxBytes = MAX_MESSAGE_BYTES): string {
  if (message.length * 3 <= maxBytes || Buffer.byteLength(message) <= maxBytes) return message;
  const room = new Uint8Array(maxBytes - ELLIPSIS.length);
  const { read } = encoder.encodeInto(message, room);
  return message.slice(0, read) + ELLIPSIS;
}

/** Occurrences that are the same event: same object, reason and message (the type follows from the reason). */
export function eventKey(e: RecordedEvent): string {
  const o = e.involvedObject;
  return JSON.stringify([e.namespace, o.kind, o.namespace ?? e.namespace, o.name, o.uid ?? '', e.type, e.reason, e.message]);
}

/**
 * A bounded LRU of distinct events. `add` touches or creates the entry and,
 * when full, evicts the least recently recorded one (its unwritten
 * occurrences are returned, so the caller counts them dropped).
 */
export class EventCache {
  private readonly entries = new Map<string, EventEntry>();

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records one occurrence of `e` (its message already truncated) at `now`. */
  add(e: RecordedEvent, now: number): { entry: EventEntry; evicted?: EventEntry } {
    const key = eventKey(e);
    const found = this.entries.get(key);
    if (found) {
      found.pending++;
      found.lastAt = now;
      this.entries.delete(key); // re-insert: Map order is the LRU order
      this.entries.set(key, found);
      return { entry: found };
    }
    let evicted: EventEntry | undefined;
    if (this.entries.size >= this.maxKeys) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, EventEntry];
      this.entries.delete(oldestKey);
      oldest.evicted = true;
      evicted = oldest;
    }
    const entry: EventEntry = { key, event: e, name: undefined, created: false, written: 0, pending: 1, sending: 0, firstAt: now, lastAt: now, evicted: false };
    this.entries.set(key, entry);
    return { entry, ...(evicted ? { evicted } : {}) };
  }

  /** Entries with occurrences to write and no write in flight, least recently recorded first. */
  due(): EventEntry[] {
    const out: EventEntry[] = [];
    for (const e of this.entries.values()) if (e.pending > 0 && e.sending === 0) out.push(e);
    return out;
  }

  /** Occurrences recorded and not yet written, over every entry. */
  backlog(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.pending + e.sending;
    return n;
  }
}

/**
 * At most `perSecond` writes on average, `burst` at once: what keeps a storm
 * of distinct events (a thousand pods denied at once) from becoming a
 * thousand API writes a second.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
