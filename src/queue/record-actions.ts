/**
 * What retry, block and unblock do to an image record, as pure functions
 * beside the store that writes them: which records an action refuses, and
 * the patch it applies. Callers (the dashboard API) word the refusals as
 * their own errors and do the writes; nothing here does I/O.
 */
import type { ImageRecord, ImageSource, ImageState } from './record.js';

/** Why a record cannot be retried now; undefined from `retryRefusal` when it can. */
export type RetryRefusal = { why: 'blocked'; blockedReason: string | null } | { why: 'copying' };

/** Why a record cannot be unblocked; undefined from `unblockRefusal` when it can. */
export type UnblockRefusal = { why: 'not-blocked'; state: ImageState };

/** The fields a record created by an action starts from (the caller's config and ref). */
export interface NewRecordBasics {
  mirrorRef: string;
  maxAttempts: number;
  source: ImageSource;
}

/**
 * A block only holds off copies through the record, and a running copy
 * cannot be stopped from here: retrying a blocked image would bypass the
 * block, and retrying a copying one would start a second copy of it.
 */
export function retryRefusal(record: Pick<ImageRecord, 'state' | 'blockedReason'>): RetryRefusal | undefined {
  if (record.state === 'blocked') return { why: 'blocked', blockedReason: record.blockedReason };
  if (record.state === 'copying') return { why: 'copying' };
  return undefined;
}

/** Only a blocked image can be unblocked (to copy another one again, retry it). */
export function unblockRefusal(record: Pick<ImageRecord, 'state'>): UnblockRefusal | undefined {
  return record.state === 'blocked' ? undefined : { why: 'not-blocked', state: record.state };
}

/**
 * The patch that blocks an image. A known record keeps its history (attempts,
 * digest, mirroredAt) and only loses its next attempt; an unknown image gets
 * a whole record, so a block can be set before any pod asks for it.
 * `basics` is asked for only when there is no record: deriving a mirror
 * reference can fail, and blocking a known record must not depend on it.
 */
export function blockPatch(
  before: ImageRecord | undefined,
  reason: string,
  now: string,
  basics: () => NewRecordBasics,
): Partial<ImageRecord> {
  if (before) return { state: 'blocked', blockedReason: reason, nextAttemptAt: null };
  const { mirrorRef, maxAttempts, source } = basics();
  return {
    state: 'blocked',
    blockedReason: reason,
    mirrorRef,
    attempts: 0,
    maxAttempts,
    lastError: null,
    nextAttemptAt: null,
    digest: null,
    bytesDone: 0,
    bytesTotal: 0,
    createdAt: now,
    source,
    mirroredAt: null,
  };
}

/**
 * The patch that lifts a block. The enqueue script never lifts a block by
 * itself (so nothing else can), hence this write before a forced enqueue.
 */
export function unblockPatch(): Partial<ImageRecord> {
  return { state: 'queued', blockedReason: null };
}

/**
 * Where a record's image lives in the mirror: the reference it was copied to
 * (the mirror settings may have changed since), else, for an unknown image or
 * a record without one, the reference derived now.
 */
export function recordMirrorRef(record: Pick<ImageRecord, 'mirrorRef'> | undefined, derive: () => string): string {
  return record?.mirrorRef || derive();
}
