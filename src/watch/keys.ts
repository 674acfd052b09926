/**
 * Every Redis key src/watch writes (`prefix` = queue.prefix). They live under
 * `<prefix>:watches:` so they never meet the BullMQ queue `watch`, whose
 * keys are `<prefix>:watch:*`.
 */
export function watchKeys(prefix: string) {
  const w = (id: string) => `${prefix}:watches:${id}`;
  return {
    /** hash id -> JSON WatchConfig: watches defined through the API. */
    defs: `${prefix}:watches:defs`,
    /** hash id -> JSON WatchStatus. */
    status: `${prefix}:watches:status`,
    /** list of JSON ChangeEvent, newest first (capped). */
    events: (id: string) => `${w(id)}:events`,
    /** hash `<tag>@<digest>` -> JSON HeldEntry: what the mirror held for each tag, and when (audit + retention). */
    held: (id: string) => `${w(id)}:held`,
    /** hash upstream ref -> JSON RefEntry: refs this watch enqueued. */
    refs: (id: string) => `${w(id)}:refs`,
    /** hash `tag:<tag>` | `digest:<digest>` -> JSON cached registry answer. */
    cache: (id: string) => `${w(id)}:cache`,
    /** counter ordering held entries. */
    seq: (id: string) => `${w(id)}:seq`,
    lock: (id: string) => `${w(id)}:lock`,
    again: (id: string) => `${w(id)}:again`,
    /** SET NX claim (with a TTL): one replica polls an ImageWatch edit, `version` = uid, generation and spec hash. */
    specPolled: (id: string, version: string) => `${w(id)}:spec-polled:${version}`,
    /** pub/sub: JSON PolledMessage after every poll (dashboards may follow it). */
    channel: `${prefix}:watches:events`,
  };
}

/** Name of the BullMQ queue holding one job scheduler per watch. */
export const WATCH_QUEUE_NAME = 'watch';

/** Job scheduler id of a watch (BullMQ ids avoid ':'). */
export const schedulerId = (watchId: string): string => `poll-${watchId}`;
export const watchIdOfScheduler = (key: string): string | undefined => (key.startsWith('poll-') ? key.slice(5) : undefined);
