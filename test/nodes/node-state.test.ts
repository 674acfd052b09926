import t from 'tap';
import { connectRedis } from '../../src/queue/index.js';
import { isStale, NodeStateStore, nodeStateKey, type NodeState } from '../../src/nodes/index.js';
import { startRedis } from '../support/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const state = (node: string, seenAt: string): NodeState => ({ node, seenAt, version: '0.1.0', ready: true, prepull: [], imports: [] });

t.test('publish, list sorted, a foreign value skipped; nodes gone a day forgotten', async (t) => {
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new NodeStateStore(conn, 'n1');
  const now = Date.parse('2026-12-03T12:00:00Z');
  await store.publish(state('node-b', new Date(now - 60_000).toISOString()));
  await store.publish(state('node-a', new Date(now - 25 * 3600_000).toISOString()));
  await conn.hset(nodeStateKey('n1'), 'node-x', '{not json', 'node-y', JSON.stringify(state('other-name', new Date(now).toISOString())));
  t.same((await store.list()).map((n) => n.node), ['node-a', 'node-b'], 'garbage and a value naming another node are not nodes');
  t.same(await store.removeStale(now), ['node-a']);
  t.same((await store.list()).map((n) => n.node), ['node-b']);
  t.equal((await store.get('node-b'))?.version, '0.1.0');
  t.equal(await store.get('node-a'), undefined);
});

t.test('stale after three missed resyncs', async (t) => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  t.equal(isStale(state('a', new Date(now - 179_000).toISOString()), 60_000, now), false);
  t.equal(isStale(state('a', new Date(now - 181_000).toISOString()), 60_000, now), true);
});
