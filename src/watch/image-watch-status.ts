/**
 * An ImageWatch's `status` from ferry's own watch state. Pure. The status
 * writer (resource-status.ts) patches it through the status subresource
 * when `statusChanged` says so. Conditions follow metav1.Condition: a
 * condition's lastTransitionTime moves only when its status does.
 */
import type { HeldEntry, WatchStatus } from './state.js';

export interface Condition {
  type: 'Ready' | 'Polling' | 'Error';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ImageWatchStatus {
  conditions: Condition[];
  lastPollAt?: string | null;
  selected?: { tag: string; digest: string } | null;
  alias?: { tag: string; digest: string } | null;
  held?: { tag: string; digest: string; mirroredAt: string }[];
  observedGeneration?: number;
}

/** Held images listed in the status, newest first (the watch API's history has them all). */
export const MAX_HELD_IN_STATUS = 20;

/** A status with only lastPollAt newer is written at most this often. */
export const LAST_POLL_REFRESH_MS = 60_000;

type Draft = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

function conditions(drafts: Draft[], previous: readonly Condition[] | undefined, generation: number | undefined, now: string): Condition[] {
  return drafts.map((d) => {
    const before = previous?.find((c) => c.type === d.type);
    return {
      ...d,
      lastTransitionTime: before && before.status === d.status && before.lastTransitionTime ? before.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

export interface StatusInput {
  /** metadata.generation of the object the status describes. */
  generation: number | undefined;
  /** The object's current status (its conditions' transition times are kept). */
  previous: Partial<ImageWatchStatus> | undefined;
  watch: WatchStatus;
  held: readonly HeldEntry[];
  schedule: string;
  now: Date;
}

/** The status of a valid ImageWatch after a poll (or a retention pass). */
export function buildStatus(i: StatusInput): ImageWatchStatus {
  const s = i.watch;
  const now = i.now.toISOString();
  const drafts: Draft[] = [];
  if (!s.lastPollAt) drafts.push({ type: 'Ready', status: 'Unknown', reason: 'Pending', message: 'not polled yet' });
  else if (s.lastResult === 'error') drafts.push({ type: 'Ready', status: 'False', reason: 'PollFailed', message: `the last poll failed${s.selected ? `; the mirror keeps ${s.selected.tag}` : ''}` });
  else if (!s.selected) drafts.push({ type: 'Ready', status: 'False', reason: 'NoMatch', message: s.reason ?? 'no tag matches the spec' });
  else drafts.push({ type: 'Ready', status: 'True', reason: 'Selected', message: `selected ${s.selected.tag} (${short(s.selected.digest)})${s.reason ? `: ${s.reason}` : ''}` });
  drafts.push(
    s.consecutiveErrors > 0
      ? { type: 'Polling', status: 'True', reason: 'Retrying', message: `${s.consecutiveErrors} poll(s) failed in a row; retrying with backoff, and on schedule "${i.schedule}"` }
      : { type: 'Polling', status: 'True', reason: 'Scheduled', message: `polled on schedule "${i.schedule}" (UTC)` },
  );
  drafts.push(
    s.error
      ? { type: 'Error', status: 'True', reason: 'PollFailed', message: `${s.error.code}: ${s.error.message}` }
      : { type: 'Error', status: 'False', reason: 'NoError', message: s.lastPollAt ? 'the last poll succeeded' : 'not polled yet' },
  );
  const alias = (s as WatchStatus & { alias?: { tag: string; digest: string } | null }).alias;
  const held = i.held
    .filter((h) => !h.deletedAt)
    .sort((a, b) => b.seq - a.seq)
    .slice(0, MAX_HELD_IN_STATUS)
    .map((h) => ({ tag: h.tag, digest: h.digest, mirroredAt: h.heldSince }));
  return {
    conditions: conditions(drafts, i.previous?.conditions, i.generation, now),
    lastPollAt: s.lastPollAt,
    selected: s.selected ? { tag: s.selected.tag, digest: s.selected.digest } : null,
    ...(alias !== undefined ? { alias: alias ? { tag: alias.tag, digest: alias.digest } : null } : {}),
    held,
    ...(i.generation !== undefined ? { observedGeneration: i.generation } : {}),
  };
}

/** The status of an ImageWatch whose spec ferry refuses: not a watch, so not polled. */
export function invalidStatus(problems: readonly string[], generation: number | undefined, previous: Partial<ImageWatchStatus> | undefined, now: Date): ImageWatchStatus {
  const message = problems.join('; ').slice(0, 4000);
  return {
    conditions: conditions(
      [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
        { type: 'Polling', status: 'False', reason: 'InvalidSpec', message: 'not polled: fix the spec (ferry check-config --resources FILE says what is wrong)' },
        { type: 'Error', status: 'True', reason: 'InvalidSpec', message },
      ],
      previous?.conditions,
      generation,
      now.toISOString(),
    ),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** JSON with sorted keys, null and empty arrays left out: the API server returns objects in its own key order, and drops what a merge patch set to null. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && x !== undefined && !(Array.isArray(x) && x.length === 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The status without the fields that change on every write by themselves. */
function comparable(s: Partial<ImageWatchStatus> | undefined): string {
  if (!s) return '';
  const { lastPollAt: _poll, ...rest } = s;
  return canonical({ ...rest, conditions: (rest.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c) });
}

/**
 * Whether `next` is worth a write over `current`: anything but lastPollAt
 * differs, or lastPollAt is LAST_POLL_REFRESH_MS stale (a person reading
 * `kubectl get iw` sees a Last Poll at most a minute old, and a watch
 * polled every few seconds costs one write a minute).
 */
export function statusChanged(current: Partial<ImageWatchStatus> | undefined, next: ImageWatchStatus, now: Date): boolean {
  if (comparable(current) !== comparable(next)) return true;
  if (!next.lastPollAt || next.lastPollAt === current?.lastPollAt) return false;
  const was = current?.lastPollAt ? Date.parse(current.lastPollAt) : 0;
  return !(now.getTime() - was < LAST_POLL_REFRESH_MS);
}
