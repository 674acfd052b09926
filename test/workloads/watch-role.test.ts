/**
 * The watch role's cluster view (src/watch/cluster.ts) starts the workload
 * image index only with `agent.prepullWorkloads: true`, next to the pod
 * tracker, and closes it with the view.
 */
import t from 'tap';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { connectKube } from '../../src/kube/index.js';
import type { RoleContext } from '../../src/runtime/index.js';
import { startClusterView } from '../../src/watch/cluster.js';
import { WorkloadImages } from '../../src/workloads/index.js';
import { clusterViewContext } from '../support/cluster-view-context.js';
import { startKubeApi } from '../support/kube-api.js';
import { startRedis } from '../support/redis.js';
import { APPS_TYPES, workload } from './support/apps.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const dir = mkdtempSync(join(tmpdir(), 'ferry-workloads-role-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const api = await startKubeApi({
  extraTypes: APPS_TYPES,
  objects: [workload('Deployment', 'shop', 'web', ['nginx:1.27'])],
});
t.teardown(() => api.close());
const kube = await connectKube({ KUBECONFIG: api.kubeconfig(dir) });

function context(prepullWorkloads: boolean, prefix: string): RoleContext {
  const config = resolveConfig({ mirror: { registry: 'mirror.local:5000' }, queue: { prefix }, agent: { prepullWorkloads } }).config;
  return clusterViewContext(t, { config, kube, redisUrl: redis.url });
}

t.test('agent.prepullWorkloads: true: the view indexes workload images into <prefix>:workloads', async (t) => {
  const ctx = context(true, 'role-on');
  const view = (await startClusterView(ctx))!;
  t.teardown(() => view.close());
  t.ok(view.workloads, 'the index runs');
  if (!view.workloads!.synced) await once(view.workloads!, 'synced');
  t.same(await new WorkloadImages(ctx.connection, 'role-on').list(), [
    { ref: 'docker.io/library/nginx:1.27', pull: 'mirror.local:5000/docker.io/library/nginx:1.27', workloads: ['shop/Deployment/web'], placements: [{ nodeSelector: {} }] },
  ]);
  await view.close();
  t.equal(view.workloads!.synced, false, 'closed with the view');
});

t.test('agent.prepullWorkloads: false (the default): no index, no apps/v1 request', async (t) => {
  const ctx = context(false, 'role-off');
  const before = api.requests.filter((r) => r.path.startsWith('/apis/apps/')).length;
  const view = (await startClusterView(ctx))!;
  t.teardown(() => view.close());
  t.equal(view.workloads, undefined);
  t.equal(api.requests.filter((r) => r.path.startsWith('/apis/apps/')).length, before);
  t.same(await new WorkloadImages(ctx.connection, 'role-off').list(), []);
});
