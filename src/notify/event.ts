/**
 * The CloudEvents 1.0 envelope (structured JSON mode) of one notification.
 * Pure: ids are derived from what happened, never from when or where it was
 * seen, so two replicas (or a retried poll) that notice the same change emit
 * the same id, and the delivery queue keeps one (see queue.ts).
 */
import { createHash } from 'node:crypto';
import type { NotifyEvent } from '../config/types.js';
import type { ConfigDiff } from './config-diff.js';

export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['tagMoved', 'drifted', 'mirrored', 'error'];

/** What an emitter knows about one event. */
export interface NotifyInput {
  event: NotifyEvent;
  /** The upstream image reference (normalized); the CloudEvent `subject`. */
  ref: string;
  mirrorRef: string;
  oldDigest?: string | null;
  newDigest?: string | null;
  /** tagMoved: the watch that saw it. */
  watchId?: string;
  /** tagMoved: `moved` (same tag, new digest) or `new-tag` (another tag selected), and the tags. */
  kind?: string;
  tag?: string;
  previousTag?: string | null;
  /** error: the code and message the image record keeps. */
  error?: { code: string | null; message: string };
  /** What makes two occurrences of the same transition distinct (error: the copy job id). */
  occurrence?: string;
  /** When it happened (ISO); default: now. */
  at?: string;
}

export interface NotifyData {
  ref: string;
  mirrorRef: string;
  oldDigest: string | null;
  newDigest: string | null;
  watchId?: string;
  kind?: string;
  tag?: string;
  previousTag?: string | null;
  error?: { code: string | null; message: string };
  /** What changed in the image config from oldDigest to newDigest; null when not known (configDiffReason says why). */
  configDiff: ConfigDiff | null;
  configDiffReason?: string;
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  data: NotifyData;
}

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** `io.ferry.tagMoved`, ... */
export const eventType = (e: NotifyEvent): string => `io.ferry.${e}`;

/** Stable per event: a hash of what happened (no time, no process). BullMQ-safe (no `:`). */
export function eventId(i: NotifyInput): string {
  const key = [i.event, i.ref, i.oldDigest ?? '', i.newDigest ?? '', i.watchId ?? '', i.occurrence ?? ''].join('\n');
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** `ferry://<mirror registry>/watch/<id>`, `/refresh`, `/worker`. */
export function eventSource(mirrorRegistry: string, i: NotifyInput): string {
  const what = i.event === 'tagMoved' ? `watch/${i.watchId ?? 'unknown'}` : i.event === 'drifted' ? 'refresh' : 'worker';
  return `ferry://${mirrorRegistry}/${what}`;
}

/** Does this event carry two digests whose configs can be compared? */
export const hasDigestPair = (d: Pick<NotifyData, 'oldDigest' | 'newDigest'>): boolean => !!d.oldDigest && !!d.newDigest && d.oldDigest !== d.newDigest;

export function buildCloudEvent(i: NotifyInput, mirrorRegistry: string, now: () => number = Date.now): CloudEvent {
  const data: NotifyData = {
    ref: i.ref,
    mirrorRef: i.mirrorRef,
    oldDigest: i.oldDigest ?? null,
    newDigest: i.newDigest ?? null,
    ...(i.watchId !== undefined ? { watchId: i.watchId } : {}),
    ...(i.kind !== undefined ? { kind: i.kind } : {}),
    ...(i.tag !== undefined ? { tag: i.tag } : {}),
    ...(i.previousTag !== undefined ? { previousTag: i.previousTag } : {}),
    ...(i.error ? { error: i.error } : {}),
    configDiff: null,
  };
  if (!hasDigestPair(data)) data.configDiffReason = i.event === 'error' ? 'an error event has no new image' : 'no previous digest to compare with';
  return {
    specversion: '1.0',
    id: eventId(i),
    source: eventSource(mirrorRegistry, i),
    type: eventType(i.event),
    time: i.at ?? new Date(now()).toISOString(),
    subject: i.ref,
    datacontenttype: 'application/json',
    data,
  };
}

/** Does `target` want `event`? `events` omitted = all. */
export const wants = (target: { events?: readonly NotifyEvent[] }, event: NotifyEvent): boolean => !target.events || target.events.includes(event);
