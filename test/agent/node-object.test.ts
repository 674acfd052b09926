/**
 * The agent's Node object access (src/agent/node-object.ts) through the real
 * @kubernetes/client-node against the stand-in API server: labels, the
 * startup taint removed with a guarded JSON patch (other taints kept, a
 * concurrent edit retried, one that never settles reported), typed errors,
 * and kubectl seeing the result.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nodeObjectClient, taintRemovalPatch } from '../../src/agent/node-object.js';
import { AGENT_ERROR_CODES } from '../../src/agent/errors.js';
import { connectKube, type KubeClient } from '../../src/kube/index.js';
import { NODE_TYPE, nodeObject, startKubeApi, type KubeObject, type LoggedRequest } from '../support/kube-api.js';
import { which } from '../deploy/fixtures/util.js';

const exec = promisify(execFile);
const TAINT = 'ferry.io/images-not-ready';
const kubectlBin = which('kubectl');

t.test('taintRemovalPatch (pure): test-guarded removals, highest index first', async (t) => {
  t.equal(taintRemovalPatch(undefined, TAINT), undefined, 'no taints: nothing to do');
  t.equal(taintRemovalPatch([{ key: 'other', effect: 'NoSchedule' }], TAINT), undefined, 'no taint with the key');
  t.same(
    taintRemovalPatch(
      [
        { key: TAINT, effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        { key: TAINT, effect: 'NoExecute', value: 'true' },
      ],
      TAINT,
    ),
    [
      { op: 'test', path: '/spec/taints/2/key', value: TAINT },
      { op: 'test', path: '/spec/taints/2/effect', value: 'NoExecute' },
      { op: 'remove', path: '/spec/taints/2' },
      { op: 'test', path: '/spec/taints/0/key', value: TAINT },
      { op: 'test', path: '/spec/taints/0/effect', value: 'NoSchedule' },
      { op: 'remove', path: '/spec/taints/0' },
    ],
    'both effects of the key, guarded, the later index first',
  );
});

/** Set by a test to act as a concurrent editor when a request arrives. */
let onRequest: ((r: LoggedRequest) => void) | undefined;
const dir = mkdtempSync(join(tmpdir(), 'ferry-node-object-'));
const api = await startKubeApi({ extraTypes: [NODE_TYPE], beforeRequest: (r) => onRequest?.(r) });
const kubeconfig = api.kubeconfig(dir);
const kube = (await connectKube({ KUBECONFIG: kubeconfig })) as KubeClient;
t.teardown(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
t.beforeEach(() => {
  onRequest = undefined;
});

const taintsOf = (name: string) => ((api.get('Node', undefined, name) as KubeObject & { spec?: { taints?: unknown[] } }).spec?.taints ?? []) as Array<{ key: string; effect: string }>;
const patches = () => api.requests.filter((r) => r.method === 'PATCH');

t.test('labels and taints: what the node carries, read through client-node', async (t) => {
  api.apply(nodeObject('node-a', { labels: { 'node.kubernetes.io/instance-type': 'm5.large', pool: 'gpu' } }));
  const { labels } = await nodeObjectClient(kube, 'node-a').read();
  t.match(labels, { 'kubernetes.io/hostname': 'node-a', pool: 'gpu', 'node.kubernetes.io/instance-type': 'm5.large' });
  api.apply(nodeObject('node-a', { labels: { pool: 'cpu' } }));
  t.equal((await nodeObjectClient(kube, 'node-a').read()).labels.pool, 'cpu', 'read again on every call: a relabel is seen');
  api.apply(nodeObject('node-a', { labels: { pool: 'gpu' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }, { key: 'spot', effect: 'PreferNoSchedule' }] }));
  const read = await nodeObjectClient(kube, 'node-a').read();
  t.equal(read.labels.pool, 'gpu');
  t.same(read.taints, [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }, { key: 'spot', effect: 'PreferNoSchedule' }], 'the taints too: workload tolerations are judged against them');
});

t.test('removeTaint: the key goes (every effect), the other taints stay, kubectl sees it', async (t) => {
  api.apply(
    nodeObject('node-b', {
      taints: [
        { key: TAINT, value: 'true', effect: 'NoSchedule' },
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: TAINT, effect: 'NoExecute', timeAdded: '2026-12-03T10:00:00Z' },
      ],
    }),
  );
  const before = patches().length;
  t.equal(await nodeObjectClient(kube, 'node-b').removeTaint(TAINT), 'removed');
  t.same(taintsOf('node-b'), [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], 'only the other taint is left');
  const sent = patches().slice(before);
  t.equal(sent.length, 1, 'one PATCH');
  t.match(sent[0]?.contentType, /^application\/json-patch\+json/, 'a JSON patch (its test ops guard the entries)');

  t.test('as kubectl shows it', { skip: kubectlBin ? false : 'kubectl not installed' }, async (t) => {
    const { stdout } = await exec(kubectlBin!, ['--server', api.url, '--cache-dir', join(dir, 'kube-cache'), 'get', 'node', 'node-b', '-o', 'json'], { encoding: 'utf8' });
    const node = JSON.parse(stdout) as { spec: { taints: Array<{ key: string }> } };
    t.same(node.spec.taints.map((x) => x.key), ['dedicated'], 'kubectl get node: the startup taint is gone');
  });

  t.equal(await nodeObjectClient(kube, 'node-b').removeTaint(TAINT), 'absent', 'a second call: nothing left to remove');
});

t.test('removeTaint on an untainted node: absent, nothing written', async (t) => {
  api.apply(nodeObject('node-c'));
  const before = patches().length;
  t.equal(await nodeObjectClient(kube, 'node-c').removeTaint(TAINT), 'absent');
  t.equal(patches().length, before, 'no PATCH sent');
});

t.test('a concurrent edit of the taints fails the guarded patch, which is recomputed', async (t) => {
  api.apply(nodeObject('node-d', { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: TAINT, effect: 'NoSchedule' }] }));
  let edited = false;
  onRequest = (r) => {
    // Another controller removes taint "a" (shifting the index) and adds one, between the agent's read and its patch.
    if (r.method === 'PATCH' && r.path === '/api/v1/nodes/node-d' && !edited) {
      edited = true;
      api.apply(nodeObject('node-d', { taints: [{ key: TAINT, effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] }));
    }
  };
  const before = api.requests.length;
  t.equal(await nodeObjectClient(kube, 'node-d').removeTaint(TAINT), 'removed');
  t.ok(edited, 'the concurrent edit happened');
  t.same(taintsOf('node-d'), [{ key: 'b', effect: 'NoExecute' }], "the other editor's taint is kept, ours is gone");
  const mine = api.requests.slice(before).filter((r) => r.path === '/api/v1/nodes/node-d');
  t.same(
    mine.map((r) => `${r.method} ${r.status}`),
    ['GET 200', 'PATCH 422', 'GET 200', 'PATCH 200'],
    'read, patch refused by its test op, read again, patch',
  );
});

t.test('taints that never settle: TAINT_FAILED after the attempts', async (t) => {
  api.apply(nodeObject('node-e', { taints: [{ key: 'x', effect: 'NoSchedule' }, { key: TAINT, effect: 'NoSchedule' }] }));
  let flip = false;
  onRequest = (r) => {
    if (r.method !== 'PATCH' || r.path !== '/api/v1/nodes/node-e') return;
    flip = !flip;
    api.apply(nodeObject('node-e', { taints: flip ? [{ key: TAINT, effect: 'NoSchedule' }, { key: 'x', effect: 'NoSchedule' }] : [{ key: 'x', effect: 'NoSchedule' }, { key: TAINT, effect: 'NoSchedule' }] }));
  };
  await t.rejects(nodeObjectClient(kube, 'node-e', { attempts: 3 }).removeTaint(TAINT), {
    code: AGENT_ERROR_CODES.TAINT_FAILED,
    message: /changed under 3 attempts/,
    hint: /patch/,
  });
  t.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/node-e').length, 3, 'three patches tried');
  t.equal(taintsOf('node-e').filter((x) => x.key === TAINT).length, 1, 'the taint is still there');
});

t.test('a node that does not exist: NODE_NOT_FOUND with the downward-API hint', async (t) => {
  const client = nodeObjectClient(kube, 'no-such-node');
  for (const call of [(): Promise<unknown> => client.read(), (): Promise<unknown> => client.removeTaint(TAINT)]) {
    await t.rejects(call(), { code: AGENT_ERROR_CODES.NODE_NOT_FOUND, message: /no-such-node/, hint: /spec\.nodeName/ });
  }
});

t.test('an API server that is gone: NODE_UNREADABLE / TAINT_FAILED, transient', async (t) => {
  const gone = await startKubeApi({ extraTypes: [NODE_TYPE] });
  const goneDir = mkdtempSync(join(tmpdir(), 'ferry-node-object-gone-'));
  t.teardown(() => rmSync(goneDir, { recursive: true, force: true }));
  const client = nodeObjectClient((await connectKube({ KUBECONFIG: gone.kubeconfig(goneDir) }))!, 'node-a', { timeoutMs: 2000 });
  await gone.close();
  await t.rejects(client.read(), { code: AGENT_ERROR_CODES.NODE_UNREADABLE, transient: true });
  await t.rejects(client.removeTaint(TAINT), { code: AGENT_ERROR_CODES.TAINT_FAILED, transient: true });
});
