import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/index.js';
import { startNamespaceCache } from '../../src/webhook/namespaces.js';

/**
 * A stand-in Kubernetes API server over real HTTP: it answers the namespace
 * list and holds a watch stream open, so the informer runs its real code.
 */
async function fakeApiServer() {
  let watch: ServerResponse | undefined;
  let resolveWatch: () => void = () => {};
  const watching = new Promise<void>((resolve) => (resolveWatch = resolve));
  const namespaces = [
    { metadata: { name: 'shop', resourceVersion: '10', annotations: { 'ferry.io/mode': 'enforce' } } },
    { metadata: { name: 'lab', resourceVersion: '11', labels: { 'ferry.io/skip': 'true' } } },
  ];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/namespaces') {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200);
      res.flushHeaders();
      watch = res;
      resolveWatch();
      return;
    }
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: '12' }, items: namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', ...n })) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    watching,
    send(type: string, object: object) {
      watch?.write(JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'Namespace', ...object } }) + '\n');
    },
    close() {
      watch?.end();
      server.closeAllConnections();
      server.close();
    },
  };
}

t.test('namespace annotations come from an informer when a kubeconfig is present', async (t) => {
  const api = await fakeApiServer();
  t.teardown(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'ferry-kube-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: test, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]
users: [{ name: test, user: { token: not-a-real-token } }]
contexts: [{ name: test, context: { cluster: test, user: test } }]
current-context: test
`,
  );
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const cache = await startNamespaceCache(logger, 'auto', { KUBECONFIG: kubeconfig });
  t.teardown(() => cache.close());
  t.equal(cache.source, 'informer');
  t.same(cache.meta('shop').annotations, { 'ferry.io/mode': 'enforce' }, 'listed at start');
  t.same(cache.meta('lab').annotations, {});
  t.same(cache.meta('lab').labels, { 'ferry.io/skip': 'true' }, 'labels too (ferry.io/skip may be a namespace label)');
  t.same(cache.meta('nope').annotations, {});
  t.ok(lines.some((l) => /watching namespace annotations/.test(l)));

  await api.watching;
  const changed = new Promise<void>((resolve) => {
    const poll = () => (cache.meta('lab').annotations['ferry.io/pull-policy'] === 'Always' ? resolve() : setImmediate(poll));
    poll();
  });
  api.send('MODIFIED', { metadata: { name: 'lab', resourceVersion: '13', annotations: { 'ferry.io/pull-policy': 'Always' } } });
  await changed;
  t.same(cache.meta('lab').annotations, { 'ferry.io/pull-policy': 'Always' }, 'watch events update the cache');

  const deleted = new Promise<void>((resolve) => {
    const poll = () => (Object.keys(cache.meta('shop').annotations).length === 0 ? resolve() : setImmediate(poll));
    poll();
  });
  api.send('DELETED', { metadata: { name: 'shop', resourceVersion: '14' } });
  await deleted;
  t.same(cache.meta('shop').annotations, {}, 'a deleted namespace is forgotten');
});

t.test('without a kubeconfig, namespace rules come from config only and the log says so', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const cache = await startNamespaceCache(logger, 'auto', {});
  t.equal(cache.source, 'config-only');
  t.same(cache.meta('anything').annotations, {});
  t.ok(lines.some((l) => /namespace rules come from config only/.test(l)));
  const off = await startNamespaceCache(logger, 'off', { KUBECONFIG: '/nonexistent' });
  t.equal(off.source, 'config-only', 'namespaceInformer: off wins over a kubeconfig');
});
