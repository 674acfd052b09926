/**
 * What the watch role sees of the cluster: the pod tracker feeding the
 * in-use index, and the Events it says about pods (FerryRewrote,
 * FerryBlockedImageInUse). Started only when there is a cluster to watch
 * (a kubeconfig or a mounted service account token) and
 * `kubernetes.podInformer` is not `off`; without one, ferry says so once and
 * retention and GC behave as they must without knowing what runs. When a
 * cluster is configured but its client config cannot be loaded, this
 * process watches no pods yet still reads the shared in-use index: retention
 * and GC then delete only while another replica keeps a pod watch live.
 */
import { once } from 'node:events';
import { linkedSignal } from '../async/index.js';
import { describeError } from '../errors.js';
import { InUseStore, startPodTracker, type PodTracker } from '../in-use/index.js';
import { createEventRecorder, type EventRecorder } from '../kube/index.js';
import type { RoleContext } from '../runtime/index.js';
import { startWorkloadIndex, type WorkloadIndex } from '../workloads/index.js';
import { startClusterEvents, type ClusterEvents } from './cluster-events.js';

export interface ClusterView {
  inUse: InUseStore;
  /** The rest is absent when the client config could not be loaded (then only `inUse` is read). */
  tracker?: PodTracker;
  recorder?: EventRecorder;
  events?: ClusterEvents;
  /** The workload image index (docs/workloads.md), with `agent.prepullWorkloads` only. */
  workloads?: WorkloadIndex;
  close(): Promise<void>;
}

/** How long the role waits for the first pod list before it starts anyway (the index fills in when the list lands); a failed list does not hold it up. */
const FIRST_SYNC_WAIT_MS = 30_000;

export async function startClusterView(ctx: RoleContext): Promise<ClusterView | undefined> {
  const logger = ctx.logger.child({ role: 'watch', part: 'cluster' });
  if (ctx.config().kubernetes.podInformer === 'off') {
    logger.info('kubernetes.podInformer: off: ferry does not watch pods (no in-use index; GC stays off, retention cannot see what runs)');
    return undefined;
  }
  let kube;
  try {
    kube = await ctx.kube();
  } catch (e) {
    // A cluster is configured: deleting as if there were none would be deleting blind.
    logger.warn({ err: describeError(e) }, 'cannot load the Kubernetes client config: pods are not watched here (retention and GC delete nothing unless another replica keeps its pod watch live)');
    return { inUse: new InUseStore(ctx.redis('in-use'), ctx.config().queue.prefix), close: async () => {} };
  }
  if (!kube) {
    logger.info('no KUBECONFIG and no in-cluster service account: pods are not watched (no in-use index; GC stays off)');
    return undefined;
  }
  // Its own connection: the first list of a big cluster is tens of thousands of pipelined calls.
  const inUse = new InUseStore(ctx.redis('in-use'), ctx.config().queue.prefix);
  const tracker = startPodTracker({ kube, store: inUse, mirror: () => ctx.config().mirror, logger });
  // The agents' pre-pull list of what workloads will run; read from Redis by every node's agent. Not waited for: it fills in.
  const workloads = ctx.config().agent.prepullWorkloads
    ? startWorkloadIndex({ kube, redis: ctx.connection, prefix: ctx.config().queue.prefix, config: ctx.config, logger: logger.child({ component: 'workload-index' }) })
    : undefined;
  const recorder = createEventRecorder(kube, ctx.logger);
  const records = ctx.records();
  void records.start().catch(() => {}); // the feed logs its own reload failures; a late load re-judges every pod
  const events = startClusterEvents({
    tracker,
    recorder,
    config: ctx.config,
    records,
    redis: ctx.connection,
    prefix: ctx.config().queue.prefix,
    logger: ctx.logger.child({ component: 'cluster-events' }),
  });
  ctx.onConfigChange(() => events.onConfigChange());
  ctx.addReadiness('podWatch', async () => ({ ok: true, detail: tracker.synced ? `${tracker.size} pods watched` : 'pod list not synced yet' }));
  // A slow first list is waited for; an API that is away or refuses fails it at once, and the role starts then.
  const done = new AbortController();
  const wait = linkedSignal(done.signal, AbortSignal.timeout(FIRST_SYNC_WAIT_MS));
  const first = await Promise.race([
    once(tracker, 'synced', { signal: wait.signal }).then(() => 'synced' as const),
    once(tracker, 'watchError', { signal: wait.signal }).then(() => 'failed' as const),
  ]).catch(() => 'waiting' as const);
  done.abort(); // the other `once` lets go of the tracker
  wait.dispose();
  if (first === 'synced') logger.info({ cluster: kube.server, pods: tracker.size }, 'watching pods: in-use index synced');
  else {
    const why = first === 'failed' ? 'the first pod list or watch failed (retrying with backoff)' : 'the first pod list has not finished yet';
    logger.warn({ cluster: kube.server }, `${why}; the in-use index fills in when it does (until then retention and GC delete nothing)`);
  }
  return {
    inUse,
    tracker,
    recorder,
    events,
    ...(workloads ? { workloads } : {}),
    async close() {
      await workloads?.close();
      await events.close();
      await recorder.close();
      await tracker.close();
    },
  };
}
