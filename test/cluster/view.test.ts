/**
 * startClusterView (src/watch/cluster.ts) with an API server that is away:
 * the watch role (and with it `ferry all`, whose HTTP app listens only once
 * every role started) must not sit out the first-sync wait, and closing must
 * not hang either.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { connectKube } from '../../src/kube/index.js';
import { startClusterView } from '../../src/watch/cluster.js';
import { clusterViewContext } from '../support/cluster-view-context.js';
import { startRedis } from '../support/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

/** A port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('the API refuses connections: the view starts without waiting out the first sync, and closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-view-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'away', cluster: { server: `http://127.0.0.1:${await closedPort()}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'away', user: { token: 'x' } }],
      contexts: [{ name: 'away', context: { cluster: 'away', user: 'away' } }],
      'current-context': 'away',
    }),
  );
  const kube = await connectKube({ KUBECONFIG: file });
  const config = resolveConfig({ mirror: { registry: 'mirror.local:5000' }, queue: { prefix: 'view' } }).config;
  const ctx = clusterViewContext(t, { config, kube, redisUrl: redis.url });

  const started = Date.now();
  const view = await startClusterView(ctx);
  const took = Date.now() - started;
  t.ok(view?.tracker, 'the tracker runs (and keeps retrying)');
  t.ok(took < 10_000, `started in ${took} ms`);
  t.equal(view!.tracker!.synced, false);
  t.equal((await view!.inUse.live()).live, false, 'nothing is live');

  const closing = Date.now();
  await view!.close();
  t.ok(Date.now() - closing < 10_000, `closed in ${Date.now() - closing} ms`);
});
