/**
 * `ferry agent` pre-pulls against a real containerd through CRI, from a real
 * docker-registry as the mirror: images present with the digest the mirror
 * (hence upstream) serves, a missing one retried with backoff until it is
 * pushed, the node's state in Redis, and the startup taint removed from the
 * Node (stand-in API server) once every pre-pull is present.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectCri } from '../../src/cri/index.js';
import { InUseStore } from '../../src/in-use/index.js';
import { WorkloadStore } from '../../src/workloads/store.js';
import { containerdUnavailable } from '../support/containerd.js';
import { NODE_TYPE, nodeObject, startKubeApi } from '../support/kube-api.js';
import { ctrImages, fileConfig, pushToMirror, runAgent, startAgentEnv, type AgentEnv } from './fixtures/env.js';

const skip = await containerdUnavailable();
let env: AgentEnv;
if (!skip) {
  env = await startAgentEnv();
  t.teardown(() => env.close());
}

t.test('pre-pull: present with the mirror digest; a missing image retried until pushed; NodeState in Redis', { skip }, async (t) => {
  const app = await pushToMirror(env, 'docker.io/demo/app:v1');
  const appRef = `${env.registry.host}/docker.io/demo/app:v1`;
  const lateRef = `${env.registry.host}/docker.io/demo/late:v1`;
  const a = await runAgent(env, { agent: { prepull: [{ image: 'demo/app:v1' }, { image: 'docker.io/demo/late:v1' }] } });
  t.teardown(() => a.close());

  const failedTwice = a.published((s) => (s.prepull.find((p) => p.ref === lateRef)?.attempts ?? 0) >= 2);
  const present = await a.published((s) => s.prepull.find((p) => p.ref === appRef)?.status === 'present');
  const appState = present.prepull.find((p) => p.ref === appRef)!;
  t.match(appState, { image: 'docker.io/demo/app:v1', source: 'config', status: 'present', digest: app.digest, attempts: 0 });
  t.ok(appState.bytes! > 0, 'size as the runtime reports it');

  const cri = connectCri(env.containerd.socket);
  t.teardown(() => cri.close());
  const status = await cri.imageStatus(appRef);
  t.ok(status?.repoDigests.includes(`${env.registry.host}/docker.io/demo/app@${app.digest}`), 'CRI ImageStatus reports the mirror digest');
  t.ok((await ctrImages(env.containerd)).some((i) => i.ref === appRef && i.digest === app.digest), 'ctr -n k8s.io images ls lists it with that digest');

  const failing = await failedTwice;
  const late = failing.prepull.find((p) => p.ref === lateRef)!;
  t.match(late, { status: 'error', error: /^\[FERRY_ERR_CRI_PULL_FAILED\]/, retryAt: /Z$/ });
  t.equal(failing.ready, false, 'not ready while an image is missing');
  t.match(failing, { node: 'node-a', version: /^\d+\.\d+\.\d+/, runtime: /^containerd /, imports: [] });
  const failures = a.logs.filter((l) => l.msg === 'agent: pre-pull failed; will retry' && l.ref === lateRef).map((l) => l.retryInMs as number);
  t.ok(failures.length >= 2 && failures[1]! >= 200, `retry delays grow (${failures.join(', ')} ms)`);
  await a.ctx.producer.flush();
  t.match(await a.ctx.store.get('docker.io/demo/late:v1'), { source: 'agent', mirrorRef: lateRef }, 'the agent asked the queue to mirror what the mirror lacks');

  const pushed = await pushToMirror(env, 'docker.io/demo/late:v1');
  const done = await a.published((s) => s.ready);
  t.match(done.prepull.find((p) => p.ref === lateRef), { status: 'present', digest: pushed.digest, attempts: 0 });
  t.notOk(done.prepull.find((p) => p.ref === lateRef)!.error, 'error cleared');
  t.notOk(done.error, 'no runtime error');
  t.match(await a.ctx.readiness.checks.get('agent')!(), { ok: true, detail: /^node-a: containerd / });
});

t.test('an unreachable runtime: not ready, NodeState.error says why, the agent keeps running', { skip }, async (t) => {
  const a = await runAgent(env, { agent: { criSocket: join(env.tmp, 'no-such.sock'), prepull: [{ image: 'demo/app:v1' }] } });
  t.teardown(() => a.close());
  const s = await a.published((st) => (st.prepull[0]?.attempts ?? 0) >= 2);
  t.match(s, { ready: false, error: /^\[FERRY_ERR_CRI_UNREACHABLE\]/, prepull: [{ status: 'error', error: /^\[FERRY_ERR_CRI_UNREACHABLE\]/ }] });
  t.notOk(s.runtime, 'no runtime version known');
  t.match(await a.ctx.readiness.checks.get('agent')!(), { ok: false, detail: /FERRY_ERR_CRI_UNREACHABLE/ });
});

t.test('a config reload re-plans: a new agent.prepull entry is pulled, a dropped one leaves the list', { skip }, async (t) => {
  const one = await pushToMirror(env, 'docker.io/demo/reload-one:v1');
  const two = await pushToMirror(env, 'docker.io/demo/reload-two:v1');
  const file = join(mkdtempSync(join(env.tmp, 'cfg-')), 'ferry.yaml');
  const a = await runAgent(env, { configFile: file, agent: { prepull: [{ image: 'demo/reload-one:v1' }] } });
  t.teardown(() => a.close());
  await a.published((s) => s.ready && s.prepull.length === 1);
  const next = fileConfig(a.ctx.config());
  (next.agent as { prepull: unknown[] }).prepull = [{ image: 'demo/reload-two:v1' }];
  writeFileSync(file, JSON.stringify(next));
  const s = await a.published((st) => st.ready && st.prepull.length === 1 && st.prepull[0]!.image === 'docker.io/demo/reload-two:v1');
  t.equal(s.prepull[0]!.digest, two.digest, 'the new entry is pulled');
  t.ok((await ctrImages(env.containerd)).some((i) => i.digest === one.digest), 'the dropped image stays on the node');
});

t.test('agent.prepullInUse: images the cluster runs are pre-pulled too (source in-use)', { skip }, async (t) => {
  const used = await pushToMirror(env, 'docker.io/demo/used:v1');
  const a = await runAgent(env, { agent: { prepullInUse: true, prepull: [] } });
  t.teardown(() => a.close());
  const inUse = new InUseStore(a.ctx.connection, a.prefix);
  await inUse.setPod('apps', 'web-1', [
    { namespace: 'apps', pod: 'web-1', container: 'web', list: 'containers', node: 'node-b', image: 'demo/used:v1', ref: 'docker.io/demo/used:v1', digest: null, rewritten: false },
  ]);
  await a.role.resync(); // what the resync timer does every agent.resyncMs
  const s = await a.published((st) => st.prepull[0]?.status === 'present');
  t.match(s.prepull, [{ image: 'docker.io/demo/used:v1', source: 'in-use', status: 'present', digest: used.digest }]);
});

t.test('agent.prepullWorkloads: images of workloads that can land here are pre-pulled (source workload), pulled as indexed', { skip }, async (t) => {
  const wanted = await pushToMirror(env, 'docker.io/demo/rollout:v2');
  const a = await runAgent(env, { agent: { prepullWorkloads: true, prepull: [] } });
  t.teardown(() => a.close());
  const store = new WorkloadStore(a.ctx.connection, a.prefix);
  const pull = a.ctx.mirrorRefOf('docker.io/demo/rollout:v2');
  await store.write([
    ['apps/Deployment/web', { images: [{ ref: 'docker.io/demo/rollout:v2', pull }], nodeSelector: {} }],
    // no cluster here, so no labels: a workload that needs a label cannot be judged and is left out
    ['ml/Deployment/train', { images: [{ ref: 'docker.io/demo/gpu-only:v1', pull: a.ctx.mirrorRefOf('docker.io/demo/gpu-only:v1') }], nodeSelector: { pool: 'gpu' } }],
  ]);
  await a.role.resync();
  const s = await a.published((st) => st.prepull[0]?.status === 'present');
  t.match(s.prepull, [{ image: 'docker.io/demo/rollout:v2', ref: pull, source: 'workload', status: 'present', digest: wanted.digest }]);
  t.equal(s.prepull.length, 1, 'the gpu-pool workload\'s image is not planned on a node whose labels are unknown');
});

t.test('agent.prepullWorkloads on a tainted node: what tolerates its taints is pulled; the startup taint hides nothing', { skip }, async (t) => {
  const api = await startKubeApi({
    extraTypes: [NODE_TYPE],
    objects: [nodeObject('node-ml', { labels: { pool: 'ml' }, taints: [{ key: 'ferry.dev/images', effect: 'NoSchedule' }, { key: 'dedicated', value: 'ml', effect: 'NoSchedule' }] })],
  });
  t.teardown(() => api.close());
  const train = await pushToMirror(env, 'docker.io/demo/train:v1');
  const a = await runAgent(env, {
    env: { KUBECONFIG: api.kubeconfig(mkdtempSync(join(env.tmp, 'kube-'))) },
    opts: { nodeName: 'node-ml' },
    agent: { prepullWorkloads: true, prepull: [], startupTaint: 'ferry.dev/images' },
  });
  t.teardown(() => a.close());
  const store = new WorkloadStore(a.ctx.connection, a.prefix);
  const ref = (r: string) => ({ images: [{ ref: r, pull: a.ctx.mirrorRefOf(r) }] });
  await store.write([
    ['ml/Deployment/train', { ...ref('docker.io/demo/train:v1'), nodeSelector: {}, tolerations: [{ key: 'dedicated', value: 'ml', effect: 'NoSchedule' }] }],
    ['shop/Deployment/web', { ...ref('docker.io/demo/web:v1'), nodeSelector: {} }],
    ['gpu/Deployment/infer', { ...ref('docker.io/demo/infer:v1'), nodeSelector: {}, affinity: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] }], tolerations: [{ operator: 'Exists' }] }],
  ]);
  await a.role.resync();
  const s = await a.published((st) => st.prepull[0]?.status === 'present');
  t.same(s.prepull.map((p) => [p.image, p.source, p.status, p.digest]), [['docker.io/demo/train:v1', 'workload', 'present', train.digest]], 'only the workload that tolerates dedicated=ml, not the one it keeps off nor the one whose affinity wants another pool');
});

t.test('startup taint removed once the pre-pulls this node selects are present', { skip }, async (t) => {
  const api = await startKubeApi({
    extraTypes: [NODE_TYPE],
    objects: [
      nodeObject('node-t', {
        labels: { pool: 'blue' },
        taints: [
          { key: 'ferry.dev/images', effect: 'NoSchedule' },
          { key: 'other', effect: 'NoSchedule' },
        ],
      }),
    ],
  });
  t.teardown(() => api.close());
  const kubeconfig = api.kubeconfig(mkdtempSync(join(env.tmp, 'kube-')));
  const blue = await pushToMirror(env, 'docker.io/demo/blue:v1');
  const a = await runAgent(env, {
    env: { KUBECONFIG: kubeconfig },
    opts: { nodeName: 'node-t' },
    agent: {
      startupTaint: 'ferry.dev/images',
      prepull: [
        { image: 'demo/blue:v1', nodeSelector: { pool: 'blue' } },
        { image: 'demo/green:v1', nodeSelector: { pool: 'green' } }, // never pushed: would block the taint if it applied
      ],
    },
  });
  t.teardown(() => a.close());
  const s = await a.published((st) => st.taint?.removed === true);
  t.same(s.prepull.map((p) => [p.image, p.status, p.digest]), [['docker.io/demo/blue:v1', 'present', blue.digest]], 'only the selected image');
  t.match(s, { ready: true, taint: { key: 'ferry.dev/images', removed: true, removedAt: /Z$/ } });
  const node = api.get('Node', undefined, 'node-t') as { spec: { taints?: { key: string }[] } };
  t.same(node.spec.taints?.map((x) => x.key), ['other'], 'the startup taint is gone, other taints kept');
  t.ok(a.logs.some((l) => l.msg === 'agent: pre-pull entry does not apply to this node' && l.image === 'demo/green:v1'));
});
