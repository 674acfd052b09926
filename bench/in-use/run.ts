/**
 * In-use bench: what ferry's pod tracker costs over a bare client-node
 * informer holding the same pods, side by side in one run, each in its own
 * child process (RSS per process, after a forced GC).
 *
 *   (a) bare: `makeInformer` over every pod; initial list time, RSS; and the
 *       same with its list paged as the tracker's is (a single 100 MB list
 *       response leaves a higher RSS behind, so this is the fair reference)
 *   (b) ferry: PodTracker + InUseStore on a fresh redis-server; initial list
 *       + index build until the index is in Redis, RSS
 *   (c) ferry: one pod update at a time (a new image tag and digest), from
 *       the tracker receiving the event to Redis acknowledging the write
 *
 * The stand-in Kubernetes API (test/support/kube-api.ts) runs in this process
 * and holds realistic pods (~2 KB of JSON: labels, owner references,
 * resources, a projected token volume, conditions, container statuses; a third rewritten
 * to the mirror with `ferry.io/original-images`; every fourth with a sidecar).
 *
 *   node --import tsx bench/in-use/run.ts [--pods 50000] [--images 5000] [--updates 500] [--runner dist|tsx]
 *   FERRY_BENCH_PODS=5000 npm run bench -- in-use      (a quick run)
 *
 * `--runner dist` (default) compiles the child and the src/ it imports with
 * tsc into a temp dir and runs plain JS, as ferry runs; `tsx` adds its loader
 * (tens of MB) to both sides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { startKubeApi, type KubeObject } from '../../test/support/kube-api.js';
import { startRedis } from '../../test/support/redis.js';
import { compileChild } from '../compile-child.js';
import { benchOption } from '../support/args.js';

const opt = benchOption;
const PODS = Number(opt('pods', process.env.FERRY_BENCH_PODS ?? '50000'));
const IMAGES = Number(opt('images', String(Math.max(1, Math.round(PODS / 10)))));
const UPDATES = Number(opt('updates', '500'));
const runner = opt('runner', 'dist');
const NAMESPACES = Math.max(1, Math.round(PODS / 200));
const NODES = Math.max(1, Math.round(PODS / 100));
const MIRROR = 'mirror.local:5000';
const TARGET_RSS_RATIO = 1.5;
const TARGET_UPDATE_MS = 1;
/** Ignored by git (bench/out/). */
const OUT_DIR = join(import.meta.dirname, '..', 'out');

const hex = (s: string, n = 64): string => createHash('sha256').update(s).digest('hex').slice(0, n);
const HOSTS = ['docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io', 'registry.example.com:5000'];

/** Image `n` of the cluster's IMAGES: `[host/]team/app:tag`. */
function upstreamImage(n: number): { image: string; host: string; path: string; tag: string } {
  const host = HOSTS[n % HOSTS.length]!;
  const path = `team-${n % 97}/app-${n}`;
  const tag = `v1.${n % 13}.${n % 7}`;
  return { image: host === 'docker.io' ? `${path}:${tag}` : `${host}/${path}:${tag}`, host, path, tag };
}

function container(name: string, n: number, rewritten: boolean, port: number): { spec: object; status: object; original?: string } {
  const up = upstreamImage(n);
  const mirrorHost = up.host.replace(':', '_');
  const image = rewritten ? `${MIRROR}/${mirrorHost}/${up.path}:${up.tag}` : up.image;
  const digest = `sha256:${hex(`image-${n}`)}`;
  const repo = image.slice(0, image.lastIndexOf(':'));
  return {
    spec: {
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ containerPort: port, protocol: 'TCP' }],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
    },
    status: {
      name,
      ready: true,
      started: true,
      restartCount: 0,
      image,
      imageID: `${repo}@${digest}`,
      containerID: `containerd://${hex(`c-${name}-${n}-${port}`)}`,
      state: { running: { startedAt: '2025-01-01T00:00:00Z' } },
    },
    ...(rewritten ? { original: up.image } : {}),
  };
}

function makePod(i: number): KubeObject {
  const app = i % IMAGES;
  const rewritten = app % 3 === 0;
  const main = container('app', app, rewritten, 8080);
  const sidecar = i % 4 === 0 ? container('proxy', (app + Math.floor(IMAGES / 2)) % IMAGES, rewritten, 15001) : undefined;
  const rs = `app-${app}-${hex(`rs-${app}`, 10)}`;
  const originals: Record<string, string> = {};
  if (main.original) originals.app = main.original;
  if (sidecar?.original) originals.proxy = sidecar.original;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs}-${hex(`pod-${i}`, 5)}`,
      namespace: `ns-${i % NAMESPACES}`,
      labels: { app: `app-${app}`, 'pod-template-hash': hex(`rs-${app}`, 10), 'app.kubernetes.io/part-of': `team-${app % 97}` },
      ...(rewritten ? { annotations: { 'ferry.io/original-images': JSON.stringify(originals) } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: hex(`uid-${rs}`, 36), controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: `node-${i % NODES}`,
      serviceAccountName: 'default',
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      containers: [main.spec, ...(sidecar ? [sidecar.spec] : [])],
      volumes: [
        {
          name: 'kube-api-access',
          projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] },
        },
      ],
    },
    status: {
      phase: 'Running',
      qosClass: 'Burstable',
      hostIP: `10.0.${(i % NODES) >> 8}.${(i % NODES) & 255}`,
      podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      startTime: '2025-01-01T00:00:00Z',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' })),
      containerStatuses: [main.status, ...(sidecar ? [sidecar.status] : [])],
    },
  };
}


interface Line {
  event: string;
  [k: string]: unknown;
}

/** A child and its JSON lines, awaited by predicate. */
function startChild(script: string, mode: string, env: NodeJS.ProcessEnv) {
  const loader = runner === 'tsx' ? ['--import', 'tsx'] : [];
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...loader, script, mode], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: Array<{ pred: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${mode} child exited with ${code}`))));
  exited.catch(() => {});
  createInterface({ input: child.stdout! }).on('line', (raw) => {
    const line = JSON.parse(raw) as Line;
    const i = waiting.findIndex((w) => w.pred(line));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
  });
  return {
    next: (pred: (l: Line) => boolean): Promise<Line> => Promise.race([new Promise<Line>((resolve) => waiting.push({ pred, resolve })), exited]),
    async stop() {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const mb = (n: number): string => `${n.toFixed(1)} MB`;
const ms = (n: number): string => (n < 10 ? `${n.toFixed(3)} ms` : `${Math.round(n)} ms`);

const dir = mkdtempSync(join(tmpdir(), 'ferry-in-use-bench-'));
const api = await startKubeApi({ bookmarkIntervalMs: 5000 });
const redis = await startRedis();
try {
  const script = runner === 'tsx' ? join(import.meta.dirname, 'child.ts') : (console.log('compiling the child with tsc ...'), await compileChild(join(import.meta.dirname, 'child.ts'), join(dir, 'build')));
  const podType = [...api.store.types.values()].find((t) => t.kind === 'Pod')!;
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < PODS; i++) {
    const pod = makePod(i);
    if (i < 1000) bytes += JSON.stringify(pod).length;
    api.store.create(podType, pod.metadata!.namespace, pod);
  }
  console.log(
    `stand-in holds ${PODS} pods over ${IMAGES} images, ${NAMESPACES} namespaces, ${NODES} nodes ` +
      `(~${Math.round(bytes / Math.min(PODS, 1000))} bytes of JSON per pod; built in ${Math.round(performance.now() - t0)} ms)`,
  );
  const env = { KUBECONFIG: api.kubeconfig(dir), REDIS_URL: redis.url, MIRROR_REGISTRY: MIRROR };

  const bare = startChild(script, 'bare', env);
  const bareSynced = await bare.next((l) => l.event === 'synced');
  await bare.stop();
  const barePaged = startChild(script, 'bare-paged', env);
  const pagedSynced = await barePaged.next((l) => l.event === 'synced');
  await barePaged.stop();

  const ferry = startChild(script, 'ferry', env);
  const ferrySynced = await ferry.next((l) => l.event === 'synced');

  // (c) one update at a time: a rollout step of one pod (new tag, new digest)
  const latencies: number[] = [];
  for (let k = 0; k < UPDATES; k++) {
    const i = (k * 7919) % PODS;
    const probe = makePod(i);
    const ns = probe.metadata!.namespace!;
    const name = probe.metadata!.name!;
    const cur = api.store.get(podType, ns, name) as KubeObject & { spec: { containers: Array<{ image: string }> }; status: { containerStatuses: Array<{ image: string; imageID: string }> } };
    const image = `${cur.spec.containers[0]!.image.replace(/:[^:/]+$/, '')}:rollout-${k}`;
    cur.spec.containers[0]!.image = image;
    cur.status.containerStatuses[0]!.image = image;
    cur.status.containerStatuses[0]!.imageID = `${image.replace(/:[^:/]+$/, '')}@sha256:${hex(`rollout-${k}`)}`;
    const indexed = ferry.next((l) => l.event === 'indexed' && l.key === `${ns}/${name}`);
    api.store.update(podType, ns, name, cur);
    latencies.push(((await indexed).seconds as number) * 1000);
  }
  await ferry.stop();

  const probe = new Redis(redis.url);
  const indexPods = await probe.scard('bench:inuse:pods');
  const indexRefs = await probe.scard('bench:inuse:refs');
  const keys = await probe.dbsize();
  const usedMb = Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1] ?? 0) / 1024 / 1024;
  probe.disconnect();

  latencies.sort((a, b) => a - b);
  const median = quantile(latencies, 0.5);
  const p95 = quantile(latencies, 0.95);
  const bareRss = bareSynced.rssMb as number;
  const ferryRss = ferrySynced.rssMb as number;
  const pagedRss = pagedSynced.rssMb as number;
  const ratio = ferryRss / bareRss;
  const pagedRatio = ferryRss / pagedRss;
  const heapRatio = (ferrySynced.heapMb as number) / (pagedSynced.heapMb as number);
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log(`runner: ${runner}`);
  console.log(`(a) bare informer : initial list ${ms(bareSynced.listMs as number)}, ${bareSynced.pods} pods, RSS ${mb(bareRss)} (heap ${mb(bareSynced.heapMb as number)})`);
  console.log(`    same, paged    : initial list ${ms(pagedSynced.listMs as number)}, ${pagedSynced.pods} pods, RSS ${mb(pagedRss)} (heap ${mb(pagedSynced.heapMb as number)})`);
  console.log(
    `(b) ferry tracker : initial list + index ${ms(ferrySynced.listMs as number)} (x${((ferrySynced.listMs as number) / (bareSynced.listMs as number)).toFixed(2)} of bare), ` +
      `${ferrySynced.pods} pods, ${ferrySynced.images} images, RSS ${mb(ferryRss)} (heap ${mb(ferrySynced.heapMb as number)})`,
  );
  console.log(`    index in Redis: ${indexPods} pods, ${indexRefs} refs in use, ${keys} keys, ${mb(usedMb)} used_memory`);
  console.log(`RSS ferry/bare   : ${ratio.toFixed(2)} (target <= ${TARGET_RSS_RATIO}) ${verdict(ratio <= TARGET_RSS_RATIO)}`);
  console.log(`RSS ferry/paged  : ${pagedRatio.toFixed(2)} (target <= ${TARGET_RSS_RATIO}) ${verdict(pagedRatio <= TARGET_RSS_RATIO)}; heap ferry/paged ${heapRatio.toFixed(2)}`);
  console.log(`(c) pod update -> index write acknowledged, ${UPDATES} updates: median ${ms(median)}, p95 ${ms(p95)} (target median < ${TARGET_UPDATE_MS} ms) ${verdict(median < TARGET_UPDATE_MS)}`);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(
    join(OUT_DIR, 'in-use.json'),
    JSON.stringify({ at: new Date().toISOString(), runner, pods: PODS, images: IMAGES, bare: bareSynced, barePaged: pagedSynced, ferry: ferrySynced, rssRatio: ratio, rssRatioPaged: pagedRatio, heapRatioPaged: heapRatio, update: { median, p95, n: UPDATES }, index: { indexPods, indexRefs, keys, usedMb } }, null, 2) + '\n',
  );
  if (Math.max(ratio, pagedRatio) > TARGET_RSS_RATIO || !(median < TARGET_UPDATE_MS)) process.exitCode = 1;
} finally {
  await api.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
