/**
 * `GET /api/nodes` and `GET /api/nodes/:name` on a real started dashboard
 * and a real Redis, with node states written through NodeStateStore.publish
 * as each node's agent writes them: staleness from agent.resyncMs, the
 * summary counts, one node, a typed 404, and 503 while Redis is away.
 */
import t from 'tap';
import { NodeStateStore, nodeStateKey } from '../../src/nodes/index.js';
import { nodesAnswer } from '../../src/dashboard/nodes.js';
import { startRedis } from '../support/redis.js';
import { startDashboardApp } from './support/context.js';
import { call, enc } from './support/http.js';
import { sampleNodes } from './support/nodes.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

t.test('nodesAnswer (pure): stale after three missed resyncs, counts over every node', async (t) => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const nodes = sampleNodes(now);
  const a = nodesAnswer(nodes, 60_000, now);
  t.same(a.nodes.map((n) => [n.node, n.stale]), [['node-a', false], ['node-b', false], ['node-c', true]], 'an hour-old node is stale at resync 60 s');
  t.same(a.summary, { nodes: 3, ready: 2, stale: 1, images: { present: 4, pending: 1, error: 1 }, imports: { imported: 1, error: 1 } });
  t.equal(nodesAnswer(nodes, 30 * 60_000, now).summary.stale, 0, 'at resync 30 min the same node is not stale yet');
  t.same(nodesAnswer([], 60_000, now), { nodes: [], summary: { nodes: 0, ready: 0, stale: 0, images: { present: 0, pending: 0, error: 0 }, imports: { imported: 0, error: 0 } } });
});

t.test('the routes', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'nodes-api', configure: (c) => (c.agent.resyncMs = 60_000) });
  t.teardown(() => app.close());

  let r = await call(app.url, 'GET', '/api/nodes');
  t.equal(r.status, 200, 'no agent yet: an empty answer, not an error');
  t.same(r.body, { nodes: [], summary: { nodes: 0, ready: 0, stale: 0, images: { present: 0, pending: 0, error: 0 }, imports: { imported: 0, error: 0 } } });

  const store = new NodeStateStore(app.ctx.connection, 'nodes-api');
  for (const n of sampleNodes()) await store.publish(n);
  // a foreign or half-written value is no node, and does not break the answer
  await app.ctx.connection.hset(nodeStateKey('nodes-api'), 'garbage', '{not json');

  r = await call(app.url, 'GET', '/api/nodes');
  t.equal(r.status, 200);
  t.same(r.body.nodes.map((n: { node: string; stale: boolean }) => [n.node, n.stale]), [['node-a', false], ['node-b', false], ['node-c', true]], 'sorted by name, the silent node stale');
  t.same(r.body.summary, { nodes: 3, ready: 2, stale: 1, images: { present: 4, pending: 1, error: 1 }, imports: { imported: 1, error: 1 } });
  const b = r.body.nodes[1];
  t.match(b.prepull[2], { status: 'error', error: /^\[FERRY_ERR_CRI_PULL_FAILED\]/, attempts: 3, retryAt: String }, 'the pre-pull error with its code, as published');
  t.match(b.taint, { key: 'ferry.io/images-not-ready', removed: false });

  r = await call(app.url, 'GET', '/api/nodes/node-c');
  t.equal(r.status, 200);
  t.match(r.body, { node: 'node-c', stale: true, runtime: 'cri-o 1.30.2' }, 'one node, with its staleness');

  r = await call(app.url, 'GET', `/api/nodes/${enc('no such node')}`);
  t.equal(r.status, 404);
  t.match(r.body, { code: 'FERRY_ERR_DASHBOARD_NODE_NOT_FOUND', message: /no such node/, hint: /GET \/api\/nodes/ });

  // the agent republishes: the answer follows
  await store.publish({ ...sampleNodes()[2]!, seenAt: new Date().toISOString() });
  r = await call(app.url, 'GET', '/api/nodes');
  t.equal(r.body.summary.stale, 0, 'a node that publishes again is no longer stale');

  t.test('Redis away: 503 with the dashboard code, never a hang', async (t) => {
    app.ctx.connection.disconnect();
    t.teardown(() => app.ctx.connection.connect().catch(() => {}));
    for (const path of ['/api/nodes', '/api/nodes/node-a']) {
      const res = await call(app.url, 'GET', path);
      t.equal(res.status, 503, path);
      t.equal(res.body.code, 'FERRY_ERR_DASHBOARD_UNAVAILABLE');
    }
  });
});
