/**
 * Child process for the in-use bench, one per side so RSS is per process:
 *
 *   node --expose-gc child.js bare   a bare client-node informer over every pod (the reference)
 *   node --expose-gc child.js bare-paged   the same, its list paged as the tracker's is
 *   node --expose-gc child.js ferry  ferry's PodTracker + InUseStore
 *
 * Env: KUBECONFIG (the stand-in), and for ferry REDIS_URL, MIRROR_REGISTRY.
 * Prints JSON lines on stdout: `{"event":"synced", listMs, pods, rssMb, heapMb}`
 * once the initial list is in (for ferry: indexed in Redis), then (ferry)
 * `{"event":"indexed","key":..., "seconds":...}` per pod write acknowledged.
 * Runs until stdin closes.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

const mode = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;

function memory(): { rssMb: number; heapMb: number } {
  // twice: the first pass finalizes what the second frees
  gc?.();
  gc?.();
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return { rssMb: rssKb / 1024, heapMb: process.memoryUsage().heapUsed / 1024 / 1024 };
}

const say = (o: object): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
const stdinClosed = once(process.stdin.resume(), 'end');

if (mode === 'bare' || mode === 'bare-paged') {
  const k8s = await import('@kubernetes/client-node');
  type Pod = import('@kubernetes/client-node').V1Pod;
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG!);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // bare-paged lists 500 pods a page, as the tracker does
  const paged = async () => {
    const items: Pod[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ limit: 500, ...(cont ? { _continue: cont } : {}) });
      items.push(...page.items);
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  };
  const list = mode === 'bare' ? () => core.listPodForAllNamespaces() : paged;
  const informer = k8s.makeInformer<Pod>(kc, '/api/v1/pods?allowWatchBookmarks=true', list) as ReturnType<typeof k8s.makeInformer<Pod>> &
    import('@kubernetes/client-node').ObjectCache<Pod>;
  let stopping = false;
  informer.on('error', (err) => stopping || process.stderr.write(`bare informer error: ${String(err)}\n`));
  const t0 = performance.now();
  await informer.start();
  const listMs = performance.now() - t0;
  say({ event: 'synced', listMs, pods: informer.list().length, ...memory() });
  await stdinClosed;
  stopping = true;
  await informer.stop();
} else if (mode === 'ferry') {
  const { connectKube } = await import('../../src/kube/index.js');
  const { connectRedis } = await import('../../src/queue/index.js');
  const { InUseStore, startPodTracker } = await import('../../src/in-use/index.js');
  const { pino } = await import('pino');
  const kube = (await connectKube(process.env))!;
  const redis = connectRedis(process.env.REDIS_URL!);
  const store = new InUseStore(redis, 'bench');
  const mirror = { registry: process.env.MIRROR_REGISTRY!, prefix: '' };
  const t0 = performance.now();
  const tracker = startPodTracker({
    kube,
    store,
    mirror: () => mirror,
    logger: pino({ level: 'warn' }, process.stderr),
    onIndexed: (key, seconds) => say({ event: 'indexed', key, seconds }),
  });
  await once(tracker, 'synced');
  const listMs = performance.now() - t0;
  say({ event: 'synced', listMs, pods: tracker.size, images: tracker.refCount, ...memory() });
  await stdinClosed;
  await tracker.close();
  redis.disconnect();
} else {
  throw new Error(`child: unknown mode ${mode}`);
}
process.exit(0);
