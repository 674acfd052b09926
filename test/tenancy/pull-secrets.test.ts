/**
 * PullSecrets (src/kube/pull-secrets.ts) through the real @kubernetes/client-node against the stand-in
 * API server: which Secrets it reads, how it matches a registry host, what it caches, and that what it
 * says about a Secret that gave nothing never quotes the Secret.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKube, PullSecrets, parsePullSecret } from '../../src/kube/index.js';
import { startKubeApi } from '../support/kube-api.js';
import { dockercfgSecret, dockerconfigjsonSecret, SECRET_TYPE } from './support/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-pullsecrets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const PW = 'pw-' + Math.random().toString(36).slice(2);
const api = await startKubeApi({
  extraTypes: [SECRET_TYPE],
  objects: [
    dockerconfigjsonSecret('team-a', 'regcred', { 'registry.example.com:5000': { user: 'alice', password: PW } }),
    dockerconfigjsonSecret('team-a', 'hub', { 'https://index.docker.io/v1/': { user: 'hubuser', password: PW, as: 'fields' } }),
    dockerconfigjsonSecret('team-a', 'wild', { '*.example.org': { user: 'wild', password: PW } }),
    dockercfgSecret('team-a', 'legacy', { 'http://old.example.com': { user: 'carol', password: PW } }),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque', namespace: 'team-a' }, type: 'Opaque', data: { password: Buffer.from(PW).toString('base64') } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'garbled', namespace: 'team-a' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(`{"auths": {"x": "${PW}"`).toString('base64') },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'helper', namespace: 'team-a' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ credHelpers: { 'registry.example.com:5000': 'evil' }, credsStore: 'evil' })).toString('base64') },
    },
  ],
});
t.teardown(() => api.close());
const kube = await connectKube({ KUBECONFIG: api.kubeconfig(dir) });
t.ok(kube, 'a client from the kubeconfig');
const secretReads = (ns: string, name: string) => api.requests.filter((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/${ns}/secrets/${name}`).length;

t.test('finds the credentials for a host in the named Secrets, first match wins, both formats', async (t) => {
  const ps = new PullSecrets({ kube: async () => kube });
  const a = await ps.lookup('team-a', ['missing', 'opaque', 'regcred', 'legacy'], 'registry.example.com:5000');
  t.same(a.credentials, { username: 'alice', password: PW, source: 'team-a/regcred' });
  t.same(a.problems, ['team-a/missing: not found', 'team-a/opaque: not a pull secret (type Opaque)'], 'what was skipped, by name');
  t.same((await ps.lookup('team-a', ['legacy'], 'old.example.com')).credentials, { username: 'carol', password: PW, source: 'team-a/legacy' }, 'legacy .dockercfg');
  t.same((await ps.lookup('team-a', ['hub'], 'docker.io')).credentials?.username, 'hubuser', "Docker Hub's key serves docker.io");
  t.same((await ps.lookup('team-a', ['wild'], 'r.example.org')).credentials?.username, 'wild', '*.example.org covers one label');
  t.same((await ps.lookup('team-a', ['wild'], 'a.b.example.org')).credentials, undefined, 'but not two');
  t.same((await ps.lookup('team-a', ['regcred'], 'registry.example.com')).credentials, undefined, 'the port is part of the host');
  const none = await ps.lookup('team-a', ['garbled', 'helper', 'regcred'], 'ghcr.io');
  t.same(none.problems, ['team-a/garbled: .dockerconfigjson is not JSON', 'team-a/helper: no entry for ghcr.io', 'team-a/regcred: no entry for ghcr.io']);
  t.same((await ps.lookup('team-a', ['helper'], 'registry.example.com:5000')).credentials, undefined, 'credential helpers a pod names are never run');
  t.notOk(JSON.stringify([a.problems, none.problems]).includes(PW), 'problems never quote a Secret');
  t.same((await ps.lookup('team-b', [], 'ghcr.io')).problems, ['namespace team-b: the pod names no imagePullSecrets']);
});

t.test('reads only the named Secrets, once per TTL', async (t) => {
  let now = 1_000_000;
  const ps = new PullSecrets({ kube: async () => kube, ttlMs: 30_000, now: () => now });
  const before = secretReads('team-a', 'regcred');
  await Promise.all([1, 2, 3].map(() => ps.lookup('team-a', ['regcred'], 'registry.example.com:5000')));
  t.equal(secretReads('team-a', 'regcred') - before, 1, 'concurrent lookups share one read');
  await ps.lookup('team-a', ['regcred'], 'registry.example.com:5000');
  t.equal(secretReads('team-a', 'regcred') - before, 1, 'cached');
  now += 30_001;
  await ps.lookup('team-a', ['regcred'], 'registry.example.com:5000');
  t.equal(secretReads('team-a', 'regcred') - before, 2, 'read again after the TTL');
  t.notOk(api.requests.some((r) => r.path.endsWith('/secrets') || r.watch && r.path.includes('secrets')), 'never a list or a watch');
});

t.test('without a cluster: nothing read, and said so', async (t) => {
  const ps = new PullSecrets({ kube: async () => undefined });
  const r = await ps.lookup('team-a', ['regcred'], 'registry.example.com:5000');
  t.equal(r.credentials, undefined);
  t.match(r.problems, [/no Kubernetes API configured/]);
  const failing = new PullSecrets({ kube: () => Promise.reject(new Error('cannot load')) });
  t.match((await failing.lookup('team-a', ['regcred'], 'x')).problems, [/no Kubernetes API configured/], 'a client that fails to load is the same');
});

t.test('parsePullSecret: auth or username/password; entries without either are skipped', async (t) => {
  const s = dockerconfigjsonSecret('n', 's', { 'a.io': { user: 'u', password: 'p:with:colons' }, 'b.io': { user: 'v', password: 'q', as: 'fields' } });
  const parsed = parsePullSecret(s as never);
  t.ok('auths' in parsed);
  if ('auths' in parsed) {
    t.same(parsed.auths.get('a.io'), { username: 'u', password: 'p:with:colons' }, 'the password keeps its colons');
    t.same(parsed.auths.get('b.io'), { username: 'v', password: 'q' });
  }
  t.same(parsePullSecret({ type: 'kubernetes.io/dockerconfigjson', data: {} }), { problem: 'no .dockerconfigjson key' });
});
