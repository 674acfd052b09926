/**
 * Events about what runs (SPEC "Cluster awareness"), from the pod tracker's
 * view, never from admission:
 *
 * - FerryRewrote (Normal): a pod ferry rewrote, once per pod uid, naming each
 *   rewritten container and its original -> mirror image;
 * - FerryBlockedImageInUse (Warning): a pod running an image that is blocked
 *   now (a config `block:` rule, by pattern or digest, or a record in state
 *   `blocked`), once per pod and image; re-judged when a pod's images
 *   change, when the config is reloaded (`onConfigChange`) and when a record
 *   changes;
 * - the gauge `ferry_blocked_images_in_use`, kept current on every change.
 *
 * "Once" holds across watch replicas and restarts: before an Event is
 * recorded, a Redis key for it is taken with SET NX (and a TTL, so the keys
 * of pods long gone expire); whoever takes it says it. A pod's tokens are
 * also remembered here, so its status updates ask Redis nothing.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import type { FerryConfig } from '../config/index.js';
import { describeError } from '../errors.js';
import type { PodChange, PodImage, TrackedPod } from '../in-use/index.js';
import type { EventRecorderLike, RecordedEvent } from '../kube/index.js';
import { register, type Logger } from '../observability/index.js';
import { blockRuleFor } from '../policy/index.js';
import type { ImageEvent, ImageRecord, RecordFeed } from '../queue/index.js';

export const REASON_REWROTE = 'FerryRewrote';
export const REASON_BLOCKED_IN_USE = 'FerryBlockedImageInUse';

export const blockedImagesInUse =
  (register.getSingleMetric('ferry_blocked_images_in_use') as Gauge | undefined) ??
  new Gauge({ name: 'ferry_blocked_images_in_use', help: 'Distinct blocked images (config block rule or record state blocked) that pods run now' });

/** What this needs of the pod tracker (src/in-use/tracker.ts): its changes, its (re)syncs and its view. */
export interface PodSource {
  on(event: 'change', listener: (change: PodChange) => void): unknown;
  on(event: 'synced', listener: () => void): unknown;
  off(event: 'change', listener: (change: PodChange) => void): unknown;
  off(event: 'synced', listener: () => void): unknown;
  pods(): Iterable<TrackedPod>;
}

/** The image records (the process's RecordFeed); its events, when it has them, re-judge the pods of a changed record. */
export type RecordSource = Pick<RecordFeed, 'get'> & Partial<Pick<RecordFeed, 'on' | 'off'>>;

export interface ClusterEventsOptions {
  tracker: PodSource;
  recorder: EventRecorderLike;
  /** The config in force (read at every judgement, so a reload applies). */
  config: () => FerryConfig;
  records: RecordSource;
  redis: Pick<Redis, 'set'>;
  /** `queue.prefix`. */
  prefix: string;
  logger: Logger;
  /** How long the "already said" keys live. @defaultValue 7 days */
  dedupTtlSeconds?: number;
}

export interface ClusterEvents {
  /** Re-judges every pod against the config in force: call it after a config reload. */
  onConfigChange(): void;
  /** Distinct blocked images pods run now (what the gauge says). */
  readonly blockedInUse: number;
  /** Resolves when the Redis claims started so far have settled and their Events are recorded (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The Redis keys that make an Event "once": `${prefix}:events:<reason>:<pod uid>[:<image>]`. */
export function clusterEventKeys(prefix: string) {
  const short = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return {
    rewrote: (uid: string) => `${prefix}:events:rewrote:${uid}`,
    blocked: (uid: string, ref: string) => `${prefix}:events:blocked:${uid}:${short(ref)}`,
  };
}

const DEFAULT_TTL_S = 7 * 24 * 3600;
const ERROR_LOG_EVERY_MS = 60_000;

interface PodState {
  namespace: string;
  name: string;
  uid: string;
  images: PodImage[];
  /** Blocked refs this pod runs -> why. */
  blocked: Map<string, string>;
  /** Events already claimed for this pod (here, or found claimed in Redis): never asked of Redis again. */
  said: Set<string>;
}

/** Why `ref` (as this pod runs it) is blocked now, or undefined. */
function blockedReason(config: FerryConfig, img: PodImage, record: ImageRecord | undefined): string | undefined {
  if (record?.state === 'blocked') return record.blockedReason || 'blocked in ferry';
  for (const digest of new Set([img.digest, record?.digest, record?.sourceDigest])) {
    const rule = blockRuleFor(config, img.ref, digest ?? null);
    if (rule) return rule.reason;
  }
  return undefined;
}

function rewroteMessage(images: readonly PodImage[]): string | undefined {
  const rewritten = images.filter((i) => i.rewritten);
  if (rewritten.length === 0) return undefined;
  const what = rewritten.map((i) => `${i.container}: ${i.ref} -> ${i.image}`).join('; ');
  return `ferry rewrote ${rewritten.length === 1 ? 'an image' : `${rewritten.length} images`} to the mirror: ${what}`;
}

function blockedMessage(pod: PodState, ref: string, reason: string): string {
  const containers = [...new Set(pod.images.filter((i) => i.ref === ref).map((i) => i.container))];
  return `image ${ref} (${containers.join(', ')}) is blocked now: ${reason}`;
}

export function startClusterEvents(opts: ClusterEventsOptions): ClusterEvents {
  const { tracker, recorder, records, redis, logger } = opts;
  const keys = clusterEventKeys(opts.prefix);
  const ttl = opts.dedupTtlSeconds ?? DEFAULT_TTL_S;
  const pods = new Map<string, PodState>();
  const podsByRef = new Map<string, Set<string>>();
  const blockedCount = new Map<string, number>();
  const inflight = new Set<Promise<void>>();
  let lastErrorLogAt = -Infinity;
  let closed = false;

  const podEvent = (pod: PodState, type: RecordedEvent['type'], reason: string, message: string): RecordedEvent => ({
    namespace: pod.namespace,
    involvedObject: { kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid, apiVersion: 'v1' },
    type,
    reason,
    message,
  });

  /** Records `event` once across replicas: when this process takes `redisKey`. */
  const once = (pod: PodState, redisKey: string, event: () => RecordedEvent): void => {
    if (pod.said.has(redisKey) || closed) return;
    pod.said.add(redisKey);
    const p = redis
      .set(redisKey, '1', 'EX', ttl, 'NX')
      .then(
        (taken) => {
          if (taken === 'OK' && !closed) recorder.record(event());
        },
        (e: unknown) => {
          pod.said.delete(redisKey); // judged again at the next change, resync or reload
          if (Date.now() - lastErrorLogAt < ERROR_LOG_EVERY_MS) return;
          lastErrorLogAt = Date.now();
          logger.warn({ err: describeError(e) }, 'cluster events: Redis unavailable, Events about running pods wait for it');
        },
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const countBlocked = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): void => {
    for (const ref of before.keys()) {
      if (after.has(ref)) continue;
      const n = (blockedCount.get(ref) ?? 1) - 1;
      if (n > 0) blockedCount.set(ref, n);
      else blockedCount.delete(ref);
    }
    for (const ref of after.keys()) if (!before.has(ref)) blockedCount.set(ref, (blockedCount.get(ref) ?? 0) + 1);
    blockedImagesInUse.set(blockedCount.size);
  };

  /** Judges the pod's images against the config and records in force; a newly blocked image is said once. */
  const judge = (pod: PodState): void => {
    const config = opts.config();
    const blocked = new Map<string, string>();
    for (const img of pod.images) {
      if (blocked.has(img.ref)) continue;
      const reason = blockedReason(config, img, records.get(img.ref));
      if (reason) blocked.set(img.ref, reason);
    }
    countBlocked(pod.blocked, blocked);
    pod.blocked = blocked;
    // Without a uid there is nothing to say "once" about (nor a pod kubectl would match).
    if (!config.kubernetes.events || !pod.uid) return;
    for (const [ref, reason] of blocked) {
      once(pod, keys.blocked(pod.uid, ref), () =>
        podEvent(pod, 'Warning', REASON_BLOCKED_IN_USE, blockedMessage(pod, ref, pod.blocked.get(ref) ?? reason)),
      );
    }
  };

  const index = (key: string, images: readonly PodImage[], add: boolean): void => {
    for (const ref of new Set(images.map((i) => i.ref))) {
      let set = podsByRef.get(ref);
      if (add) {
        if (!set) podsByRef.set(ref, (set = new Set()));
        set.add(key);
      } else if (set) {
        set.delete(key);
        if (set.size === 0) podsByRef.delete(ref);
      }
    }
  };

  const remove = (key: string): void => {
    const pod = pods.get(key);
    if (!pod) return;
    pods.delete(key);
    index(key, pod.images, false);
    countBlocked(pod.blocked, new Map());
  };

  const upsert = (p: { namespace: string; name: string; uid: string; images: PodImage[] }): void => {
    const key = `${p.namespace}/${p.name}`;
    const prev = pods.get(key);
    if (prev && prev.uid !== p.uid) remove(key); // the same name, another pod (a StatefulSet's, recreated)
    const pod: PodState = pods.get(key) ?? { namespace: p.namespace, name: p.name, uid: p.uid, images: [], blocked: new Map(), said: new Set() };
    index(key, pod.images, false);
    pod.images = p.images;
    index(key, pod.images, true);
    pods.set(key, pod);
    judge(pod);
    const rewrote = opts.config().kubernetes.events ? rewroteMessage(pod.images) : undefined;
    if (rewrote && pod.uid) once(pod, keys.rewrote(pod.uid), () => podEvent(pod, 'Normal', REASON_REWROTE, rewroteMessage(pod.images) ?? rewrote));
  };

  const onChange = (c: PodChange): void => {
    try {
      if (c.type === 'delete') remove(`${c.namespace}/${c.name}`);
      else upsert(c);
    } catch (e) {
      logger.error({ err: describeError(e), pod: `${c.namespace}/${c.name}` }, 'cluster events: a pod change could not be judged');
    }
  };

  /** After a (re)list the tracker's view is the cluster's: take what it has, drop what it lost. */
  const resync = (): void => {
    const seen = new Set<string>();
    for (const p of tracker.pods()) {
      const key = `${p.namespace}/${p.name}`;
      seen.add(key);
      const have = pods.get(key);
      if (!have || have.uid !== p.uid || have.images !== p.images) upsert(p);
    }
    for (const key of [...pods.keys()]) if (!seen.has(key)) remove(key);
  };

  const rejudgeAll = (): void => {
    for (const pod of pods.values()) judge(pod);
  };

  const onRecord = (ev: ImageEvent): void => {
    if (ev.type === 'progress') return; // bytes copied say nothing about blocking
    for (const key of podsByRef.get(ev.ref) ?? []) {
      const pod = pods.get(key);
      if (pod) judge(pod);
    }
  };

  tracker.on('change', onChange);
  tracker.on('synced', resync);
  records.on?.('event', onRecord);
  records.on?.('reloaded', rejudgeAll);
  resync();

  return {
    onConfigChange: rejudgeAll,
    get blockedInUse() {
      return blockedCount.size;
    },
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    async close() {
      tracker.off('change', onChange);
      tracker.off('synced', resync);
      records.off?.('event', onRecord);
      records.off?.('reloaded', rejudgeAll);
      // Claims wait on Redis; with Redis away, shutdown does not.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...inflight]), new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      closed = true;
    },
  };
}
