import t from 'tap';
import { connectRedis } from '../../src/queue/index.js';
import { WatchLocks } from '../../src/watch/lock.js';
import { planRetention } from '../../src/watch/retention.js';
import type { HeldEntry } from '../../src/watch/state.js';
import { retryDelay } from '../../src/watch/watcher.js';
import { startRedis } from '../support/redis.js';

const held = (tag: string, digest: string, seq: number, deleted = false): HeldEntry => ({
  tag,
  ref: `r/x:${tag}`,
  digest,
  seq,
  heldSince: '2024-01-01T00:00:00Z',
  lastSeenAt: '2024-01-01T00:00:00Z',
  deletedAt: deleted ? '2024-01-02T00:00:00Z' : null,
});

t.test('planRetention (table)', async (t) => {
  const three = [held('1.0.0', 'd1', 1), held('1.1.0', 'd2', 2), held('1.2.0', 'd3', 3)];
  const rows: { name: string; input: Parameters<typeof planRetention>[0]; want: { keep: string[]; delete: string[]; protected: string[] } }[] = [
    { name: 'keep 2 of 3', input: { keep: 2, held: three, pinned: new Set(), records: [], owned: new Set() }, want: { keep: ['d3', 'd2'], delete: ['d1'], protected: [] } },
    { name: 'keep more than held', input: { keep: 5, held: three, pinned: new Set(), records: [], owned: new Set() }, want: { keep: ['d3', 'd2', 'd1'], delete: [], protected: [] } },
    {
      name: 'the pinned (selected) digest always stays',
      input: { keep: 1, held: three, pinned: new Set(['d1']), records: [], owned: new Set() },
      want: { keep: ['d1'], delete: ['d3', 'd2'], protected: [] },
    },
    {
      name: 'a digest used by a record the watch does not own is protected',
      input: { keep: 1, held: three, pinned: new Set(), records: [{ ref: 'r/x@d1', digest: 'd1' }, { ref: 'r/x:1.1.0', digest: 'd2' }], owned: new Set(['r/x:1.1.0']) },
      want: { keep: ['d3'], delete: ['d2'], protected: ['d1'] },
    },
    {
      name: 'one digest under two tags counts once, at its newest',
      input: { keep: 1, held: [held('a', 'd1', 1), held('b', 'd2', 2), held('c', 'd1', 3)], pinned: new Set(), records: [], owned: new Set() },
      want: { keep: ['d1'], delete: ['d2'], protected: [] },
    },
    {
      name: 'deleted holdings are ignored',
      input: { keep: 1, held: [held('a', 'd1', 1, true), held('b', 'd2', 2)], pinned: new Set(), records: [], owned: new Set() },
      want: { keep: ['d2'], delete: [], protected: [] },
    },
  ];
  for (const r of rows) {
    const { keep, delete: del, protected: prot } = planRetention(r.input);
    t.same({ keep, delete: del, protected: prot }, r.want, r.name);
  }
});

t.test('planRetention with the in-use index: a digest a pod runs, or ran within keepUnusedFor, stays whoever owns its record', async (t) => {
  const H = 3_600_000;
  const now = Date.parse('2025-06-01T00:00:00Z');
  const ago = (h: number) => new Date(now - h * H).toISOString();
  const three = [held('1.0.0', 'd1', 1), held('1.1.0', 'd2', 2), held('1.2.0', 'd3', 3)];
  const owned = new Set(['r/x:1.0.0', 'r/x:1.1.0', 'r/x:1.2.0']);
  const records = [{ ref: 'r/x:1.0.0', digest: 'd1' }];
  const runs = (uses: [string, { running: number; lastSeenAt: string }][], aliases?: Map<string, string[]>) => ({
    uses: new Map(uses),
    now,
    keepUnusedForMs: 168 * H,
    ...(aliases ? { aliases } : {}),
  });
  const base = { keep: 1, held: three, pinned: new Set<string>(), records, owned };
  let plan = planRetention({ ...base, runs: runs([['d1', { running: 2, lastSeenAt: ago(0) }]]) });
  t.same(plan.delete, ['d2'], 'a running digest of an owned record is not deleted');
  t.same(plan.protected, ['d1']);
  t.match(plan.reasons.d1, /runs in 2 pods/);
  plan = planRetention({ ...base, runs: runs([['d1', { running: 0, lastSeenAt: ago(100) }], ['d2', { running: 0, lastSeenAt: ago(200) }]]) });
  t.same(plan.protected, ['d1'], 'ran 100 h ago: within keepUnusedFor (168 h)');
  t.same(plan.delete, ['d2'], 'ran 200 h ago: past keepUnusedFor');
  plan = planRetention({ ...base, runs: runs([['u2', { running: 1, lastSeenAt: ago(0) }]], new Map([['d2', ['u2']]])) });
  t.same(plan.protected, ['d2'], 'a pod running the upstream digest of a filtered index protects the mirror digest');
  plan = planRetention({ ...base, owned: new Set(), runs: runs([]) });
  t.same(plan.protected, ['d1'], 'records the watch does not own still protect');
  t.match(plan.reasons.d1, /image record r\/x:1\.0\.0/);
});

t.test('planRetention: a pod naming a tag whose digest it does not run yet (pending, pulling) keeps what the record points at', async (t) => {
  const three = [held('1.0.0', 'd1', 1), held('1.1.0', 'd2', 2), held('1.2.0', 'd3', 3)];
  const owned = new Set(['r/x:1.0.0', 'r/x:1.1.0', 'r/x:1.2.0']);
  const records = [{ ref: 'r/x:1.0.0', digest: 'd1' }, { ref: 'r/x:1.1.0', digest: 'd2' }];
  const named = new Map([['r/x:1.0.0', { pods: 1, namespaces: ['shop'], lastSeenAt: '2025-06-01T00:00:00Z' }]]);
  const plan = planRetention({ keep: 1, held: three, pinned: new Set(), records, owned, runs: { uses: new Map(), now: Date.parse('2025-06-01T00:00:00Z'), keepUnusedForMs: 0, named } });
  t.same(plan.delete, ['d2']);
  t.same(plan.protected, ['d1']);
  t.match(plan.reasons.d1, /r\/x:1\.0\.0 is named by 1 pod/);
});

t.test('retryDelay', async (t) => {
  t.equal(retryDelay(1, undefined), 30_000);
  t.equal(retryDelay(3, undefined), 120_000);
  t.equal(retryDelay(20, undefined), 15 * 60_000);
  t.equal(retryDelay(1, 90_000), 90_000, 'Retry-After when longer');
  t.equal(retryDelay(2, 1000), 60_000);
});

t.test('per-watch lock: a request while busy is run once more by the holder, never lost', async (t) => {
  const redis = await startRedis();
  const a = connectRedis(redis.url);
  const b = connectRedis(redis.url);
  t.teardown(async () => {
    a.disconnect();
    b.disconnect();
    await redis.stop();
  });
  const keys = { lock: (id: string) => `t:${id}:lock`, again: (id: string) => `t:${id}:again` };
  const one = new WatchLocks(a, keys);
  const two = new WatchLocks(b, keys);
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const holder = one.run('w', 'retain', 'defer', async (op, first) => {
    runs.push(`${op}:${first}`);
    if (first) {
      entered();
      await gate;
    }
    return op;
  });
  await inside;
  t.same(await two.run('w', 'poll', 'skip', async () => 'x'), { ran: false }, 'skip: dropped');
  t.same(await two.run('w', 'retain', 'defer', async () => 'x'), { ran: false }, 'defer: noted');
  t.same(await two.run('w', 'poll', 'defer', async () => 'x'), { ran: false }, 'defer: poll beats retain');
  release();
  t.same(await holder, { ran: true, value: 'retain' });
  t.same(runs, ['retain:true', 'poll:false'], 'the holder ran the noted poll once');
  t.equal(await a.exists('t:w:lock', 't:w:again'), 0, 'lock and note released');
  t.same(await two.run('w', 'poll', 'skip', async () => 'free'), { ran: true, value: 'free' });
  await t.rejects(one.run('w', 'poll', 'defer', async () => Promise.reject(new Error('boom'))), /boom/);
  t.equal(await a.exists('t:w:lock'), 0, 'released after a failure');
});
