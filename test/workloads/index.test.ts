/**
 * The workload image index against the real parts: a private redis-server,
 * the stand-in Kubernetes API server serving apps/v1, the real
 * @kubernetes/client-node, and the real kubectl. Every wait is on an event
 * (the index's 'synced'/'written', a request the stand-in logged), never a sleep.
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedis } from '../support/redis.js';
import { startKubeApi, type KubeApi, type KubeObject } from '../support/kube-api.js';
import { APPS_TYPES, workload, type WorkloadOptions } from './support/apps.js';
import { which } from '../deploy/fixtures/util.js';
import { resolveConfig } from '../../src/config/index.js';
import { connectRedis } from '../../src/queue/index.js';
import { connectKube } from '../../src/kube/index.js';
import { createLogger } from '../../src/observability/index.js';
import { imagesForNode, startWorkloadIndex, WorkloadImages, workloadKeys, type WorkloadIndex, type WorkloadIndexOptions } from '../../src/workloads/index.js';

const exec = promisify(execFile);
const kubectlBin = which('kubectl');

const redis = await startRedis();
t.teardown(() => redis.stop());
const dir = mkdtempSync(join(tmpdir(), 'ferry-workloads-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const M = 'mirror.local:5000';
const config = resolveConfig({ mirror: { registry: M } }).config;
const NGINX = 'docker.io/library/nginx:1.27';

const deploy = (ns: string, name: string, images: string[], o?: WorkloadOptions) => workload('Deployment', ns, name, images, o);

let prefixes = 0;
let dirs = 0;

interface Setup {
  api: KubeApi;
  index: WorkloadIndex;
  reader: WorkloadImages;
  /** Resolves once the index has written `key` (`namespace/Kind/name`) to Redis. */
  written(key: string): Promise<void>;
  /** Every indexed pull reference -> its workloads. */
  pulls(): Promise<Record<string, string[]>>;
}

async function setup(t: Test, objects: KubeObject[] = [], extra: Partial<WorkloadIndexOptions> = {}): Promise<Setup> {
  const api = await startKubeApi({ extraTypes: APPS_TYPES, objects, bookmarkIntervalMs: 100 });
  t.teardown(() => api.close());
  const kdir = join(dir, `k${++dirs}`);
  mkdirSync(kdir);
  const kube = (await connectKube({ KUBECONFIG: api.kubeconfig(kdir) }))!;
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const prefix = `w${++prefixes}`;
  const index = startWorkloadIndex({ kube, redis: conn, prefix, logger: createLogger('silent'), config: () => config, restartBackoffMs: 20, ...extra });
  t.teardown(() => index.close());
  const reader = new WorkloadImages(conn, prefix);
  const written = (key: string) =>
    new Promise<void>((resolve) => {
      const on = (keys: readonly string[]) => {
        if (!keys.includes(key)) return;
        index.off('written', on);
        resolve();
      };
      index.on('written', on);
    });
  const pulls = async () => Object.fromEntries((await reader.list()).map((u) => [u.pull, u.workloads]));
  return { api, index, reader, written, pulls };
}

t.test('a Deployment is listed with its images, workload and nodeSelector; changes, scaling to 0 and deletion follow', async (t) => {
  const { api, index, reader, written, pulls } = await setup(t, [deploy('shop', 'web', ['nginx:1.27', 'redis:7'], { nodeSelector: { pool: 'web' } })]);
  t.equal(await reader.syncedAt(), null, 'nothing written before the first list');
  await once(index, 'synced');
  t.match(await reader.syncedAt(), /Z$/);
  t.same(await reader.list(), [
    { ref: NGINX, pull: `${M}/${NGINX}`, workloads: ['shop/Deployment/web'], placements: [{ nodeSelector: { pool: 'web' } }] },
    { ref: 'docker.io/library/redis:7', pull: `${M}/docker.io/library/redis:7`, workloads: ['shop/Deployment/web'], placements: [{ nodeSelector: { pool: 'web' } }] },
  ]);

  // created after the sync
  let w = written('shop/Deployment/api');
  api.apply(deploy('shop', 'api', ['ghcr.io/acme/api:2']));
  await w;
  t.same((await reader.list()).find((u) => u.ref === 'ghcr.io/acme/api:2'), { ref: 'ghcr.io/acme/api:2', pull: `${M}/ghcr.io/acme/api:2`, workloads: ['shop/Deployment/api'], placements: [{ nodeSelector: {} }] });

  // image changed: the old one goes, the new one is there
  w = written('shop/Deployment/web');
  api.apply(deploy('shop', 'web', ['nginx:1.28', 'redis:7'], { nodeSelector: { pool: 'web' } }));
  await w;
  t.same(Object.keys(await pulls()).sort(), [`${M}/docker.io/library/nginx:1.28`, `${M}/docker.io/library/redis:7`, `${M}/ghcr.io/acme/api:2`]);

  // scaled to zero: needs nothing now
  w = written('shop/Deployment/web');
  api.apply(deploy('shop', 'web', ['nginx:1.28', 'redis:7'], { replicas: 0, nodeSelector: { pool: 'web' } }));
  await w;
  t.same(Object.keys(await pulls()), [`${M}/ghcr.io/acme/api:2`]);
  t.equal(index.entry('Deployment', 'shop', 'web'), undefined);

  // deleted
  w = written('shop/Deployment/api');
  api.remove('Deployment', 'shop', 'api');
  await w;
  t.same(await reader.list(), []);
  t.equal(await index.store.redis.hlen(workloadKeys(`w${prefixes}`).byWorkload), 0, 'no field left behind');
});

t.test('StatefulSets and DaemonSets count; an off namespace pulls its own ref; a rewritten template maps back', async (t) => {
  const rewritten = `${M}/docker.io/library/nginx:1.27@sha256:${'a'.repeat(64)}`;
  const { reader, index } = await setup(t, [
    workload('StatefulSet', 'data', 'db', ['postgres:16'], { replicas: 3 }),
    workload('DaemonSet', 'kube-system', 'proxy', ['registry.k8s.io/kube-proxy:v1.32.0'], { nodeSelector: { 'kubernetes.io/os': 'linux' } }),
    deploy('shop', 'web', [rewritten], { annotations: { 'ferry.io/original-images': JSON.stringify({ c0: 'nginx:1.27' }) } }),
  ]);
  await once(index, 'synced');
  t.same(await reader.list(), [
    { ref: NGINX, pull: rewritten, workloads: ['shop/Deployment/web'], placements: [{ nodeSelector: {} }] },
    { ref: 'docker.io/library/postgres:16', pull: `${M}/docker.io/library/postgres:16`, workloads: ['data/StatefulSet/db'], placements: [{ nodeSelector: {} }] },
    { ref: 'registry.k8s.io/kube-proxy:v1.32.0', pull: 'registry.k8s.io/kube-proxy:v1.32.0', workloads: ['kube-system/DaemonSet/proxy'], placements: [{ nodeSelector: { 'kubernetes.io/os': 'linux' } }] },
  ]);
  t.equal(index.size, 3);
  t.equal(index.imageCount, 3);
});

t.test('two workloads sharing an image are both listed; deleting one keeps it for the other', async (t) => {
  const { api, index, reader, written } = await setup(t, [
    deploy('a', 'one', ['nginx:1.27'], { nodeSelector: { pool: 'x' } }),
    workload('DaemonSet', 'b', 'two', ['docker.io/library/nginx:1.27']),
  ]);
  await once(index, 'synced');
  t.same(await reader.list(), [{ ref: NGINX, pull: `${M}/${NGINX}`, workloads: ['a/Deployment/one', 'b/DaemonSet/two'], placements: [{ nodeSelector: { pool: 'x' } }, { nodeSelector: {} }] }]);
  const w = written('a/Deployment/one');
  api.remove('Deployment', 'a', 'one');
  await w;
  t.same(await reader.list(), [{ ref: NGINX, pull: `${M}/${NGINX}`, workloads: ['b/DaemonSet/two'], placements: [{ nodeSelector: {} }] }]);
});

t.test('where the pods can land travels with the image: required affinity and tolerations, and imagesForNode judges them', async (t) => {
  const gpuOnly = {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'accelerator', operator: 'Exists' }] }] } } },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
  };
  const { index, reader } = await setup(t, [deploy('ml', 'train', ['ghcr.io/acme/cuda:12'], { podSpec: gpuOnly }), deploy('shop', 'web', ['nginx:1.27'])]);
  await once(index, 'synced');
  const uses = await reader.list();
  t.same(uses.find((u) => u.ref === 'ghcr.io/acme/cuda:12')?.placements, [{ nodeSelector: {}, affinity: [{ matchExpressions: [{ key: 'accelerator', operator: 'Exists' }] }], tolerations: gpuOnly.tolerations }]);
  const gpu = { name: 'g1', labels: { accelerator: 'a100' }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] };
  const cpu = { name: 'c1', labels: {} };
  t.same(imagesForNode(uses, gpu).map((u) => u.ref), ['ghcr.io/acme/cuda:12'], 'the GPU node: the CUDA image, not the web image its taint keeps off');
  t.same(imagesForNode(uses, cpu).map((u) => u.ref), [NGINX], 'a CPU node: never the CUDA image');
});

t.test('the reader takes what an older or broken writer left without throwing: junk placement parts are dropped', async (t) => {
  const { reader } = await setup(t, []);
  const img = (r: string) => [{ ref: r, pull: r }];
  await reader.redis.hset(reader.keys.byWorkload, {
    'a/Deployment/old': JSON.stringify({ images: img('old'), nodeSelector: {} }),
    'a/Deployment/junk': JSON.stringify({ images: img('junk'), nodeSelector: {}, affinity: 'x', tolerations: [1, { key: 'k', operator: 'Exists' }] }),
    'a/Deployment/bad-term': JSON.stringify({ images: img('bad-term'), nodeSelector: {}, affinity: [{ matchExpressions: 'no' }, { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a', 2] }] }] }),
    'a/Deployment/not-json': '{',
  });
  const uses = await reader.list();
  t.same(uses.map((u) => [u.ref, u.placements]), [
    ['bad-term', [{ nodeSelector: {}, affinity: [{}, { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }] }]],
    ['junk', [{ nodeSelector: {}, tolerations: [{ key: 'k', operator: 'Exists' }] }]],
    ['old', [{ nodeSelector: {} }]],
  ]);
  t.same(imagesForNode(uses, { name: 'n', labels: { pool: 'a' } }).map((u) => u.ref), ['bad-term', 'junk', 'old'], 'the empty term matches nothing, the other term does');
  t.same(imagesForNode(uses, { name: 'n', labels: { pool: 'b' } }).map((u) => u.ref), ['junk', 'old']);
  t.same(imagesForNode(uses, { name: 'n', labels: { pool: 'a' }, taints: [{ key: 'k', effect: 'NoSchedule' }] }).map((u) => u.ref), ['junk'], 'the toleration that survived still tolerates');
});

t.test('a relist after 410 Gone rewrites the view: what went while the watch was down goes, strays too', async (t) => {
  const { api, index, reader, pulls } = await setup(t, [deploy('a', 'stays', ['nginx:1.27']), deploy('a', 'goes', ['redis:7'])]);
  await once(index, 'synced');
  await api.waitForRequest((r) => r.watch && r.path === '/apis/apps/v1/deployments');
  // a field no watcher holds (a workload deleted while ferry was stopped)
  await reader.redis.hset(reader.keys.byWorkload, 'old/Deployment/gone', JSON.stringify({ images: [{ ref: 'x', pull: 'x' }], nodeSelector: {} }));
  // One tick: the watch ends, a workload goes, one comes, the history is forgotten; the re-watch gets 410.
  api.disconnectWatches();
  api.remove('Deployment', 'a', 'goes');
  api.apply(deploy('b', 'new', ['alpine:3']));
  api.compact();
  // every kind's watch was cut: wait for the Deployments' relist
  for (;;) if ((await once(index, 'listed'))[0] === 'Deployment') break;
  t.ok(api.sent.some((e) => e.type === 'ERROR' && e.path === '/apis/apps/v1/deployments'), 'the re-watch got 410');
  t.same(await pulls(), { [`${M}/docker.io/library/alpine:3`]: ['b/Deployment/new'], [`${M}/${NGINX}`]: ['a/Deployment/stays'] });
});

t.test('a workload removed while ferry was stopped is dropped on the next start; Redis losing its data is written again', async (t) => {
  const { api, index, reader, pulls } = await setup(t, [deploy('a', 'one', ['nginx:1.27']), deploy('a', 'two', ['redis:7'])]);
  await once(index, 'synced');
  await index.close();
  api.remove('Deployment', 'a', 'two');
  t.equal(Object.keys(await pulls()).length, 2, 'nobody watched the removal');
  const kdir = join(dir, `k${++dirs}`);
  mkdirSync(kdir);
  const kube = (await connectKube({ KUBECONFIG: api.kubeconfig(kdir) }))!;
  const second = startWorkloadIndex({ kube, redis: reader.redis, prefix: reader.prefix, logger: createLogger('silent'), config: () => config, tickMs: 50 });
  t.teardown(() => second.close());
  await once(second, 'synced');
  t.same(await pulls(), { [`${M}/${NGINX}`]: ['a/Deployment/one'] });
  // Redis restarted without its data: the next tick writes the view again
  await reader.redis.del(reader.keys.byWorkload, reader.keys.syncedAt);
  await once(second, 'synced');
  t.same(await pulls(), { [`${M}/${NGINX}`]: ['a/Deployment/one'] });
});

t.test('a config reload that moves the mirror or turns a namespace off re-derives every entry', async (t) => {
  let current = config;
  const { index, reader } = await setup(t, [deploy('shop', 'web', ['nginx:1.27'])], { config: () => current, tickMs: 50 });
  await once(index, 'synced');
  t.same((await reader.list()).map((u) => u.pull), [`${M}/${NGINX}`]);
  const written = once(index, 'written');
  current = resolveConfig({ mirror: { registry: 'other.local:5000' }, rewrite: { namespaces: { shop: 'off' } } }).config;
  await written;
  t.same((await reader.list()).map((u) => u.pull), [NGINX], 'shop is off now: its pods pull upstream');
});

t.test('a kind the API does not serve (404) fails on its own: the others are indexed, the index is not synced', async (t) => {
  const api = await startKubeApi({ extraTypes: APPS_TYPES.filter((x) => x.kind === 'Deployment'), objects: [deploy('shop', 'web', ['nginx:1.27'])] });
  t.teardown(() => api.close());
  const kdir = join(dir, `k${++dirs}`);
  mkdirSync(kdir);
  const kube = (await connectKube({ KUBECONFIG: api.kubeconfig(kdir) }))!;
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const prefix = `w${++prefixes}`;
  const index = startWorkloadIndex({ kube, redis: conn, prefix, logger: createLogger('silent'), config: () => config, restartBackoffMs: 60_000 });
  t.teardown(() => index.close());
  const failed = once(index, 'watchError');
  const listed = (async () => {
    for (;;) if ((await once(index, 'listed'))[0] === 'Deployment') return;
  })();
  const [[err]] = await Promise.all([failed, listed]);
  t.match(err, { code: 404 });
  t.same((await new WorkloadImages(conn, prefix).list()).map((u) => u.workloads), [['shop/Deployment/web']]);
  t.equal(index.synced, false);
  t.equal(await new WorkloadImages(conn, prefix).syncedAt(), null, 'no sync mark while a kind is missing');
});

t.test('the list pages with limit and continue', async (t) => {
  const objects = Array.from({ length: 5 }, (_, i) => deploy(`ns-${i}`, 'app', [`app${i}:1`]));
  const { api, index, reader } = await setup(t, objects, { pageSize: 2 });
  await once(index, 'synced');
  const lists = api.requests.filter((r) => r.path === '/apis/apps/v1/deployments' && !r.watch);
  t.same(lists.map((r) => [r.query.limit, Boolean(r.query.continue)]), [['2', false], ['2', true], ['2', true]]);
  t.equal((await reader.list()).length, 5);
});

t.test('kubectl get deploy -A sees the Deployments the index reads', { skip: kubectlBin ? false : 'kubectl not installed' }, async (t) => {
  const { api, index, pulls } = await setup(t, [deploy('shop', 'web', ['nginx:1.27']), deploy('data', 'etl', ['python:3.12'])]);
  await once(index, 'synced');
  const kubectl = async (...args: string[]) =>
    (await exec(kubectlBin!, ['--server', api.url, '--insecure-skip-tls-verify', '--token', 'standin-token', '--cache-dir', join(dir, 'kube-cache'), ...args], { encoding: 'utf8' })).stdout;
  const names = (await kubectl('get', 'deploy', '-A', '-o', 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name,IMAGE:.spec.template.spec.containers[0].image', '--no-headers'))
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '))
    .sort();
  t.same(names, ['data etl python:3.12', 'shop web nginx:1.27']);
  const plain = await kubectl('get', 'deploy', '-A');
  t.match(plain, /shop\s+web/);
  t.same(Object.values(await pulls()).flat().sort(), ['data/Deployment/etl', 'shop/Deployment/web']);
});
