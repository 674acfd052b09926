import t from 'tap';
import { EventEmitter } from 'node:events';
import { backoffDelay, pool } from '../../src/async/index.js';

t.test('backoffDelay: doubling from initialMs, capped, with each jitter', async (t) => {
  const b = { initialMs: 1000, maxMs: 8000 };
  t.same([1, 2, 3, 4, 5, 60].map((n) => backoffDelay(n, b)), [1000, 2000, 4000, 8000, 8000, 8000]);
  t.equal(backoffDelay(0, b), 1000, 'attempts start at 1');
  t.equal(backoffDelay(1e9, b), 8000, 'no overflow past the cap');
  t.equal(backoffDelay(3, { ...b, jitter: 'equal' }, () => 0), 2000, 'equal jitter keeps half');
  t.equal(backoffDelay(3, { ...b, jitter: 'equal' }, () => 1), 4000);
  t.equal(backoffDelay(3, { ...b, jitter: 'spread' }, () => 0), 3000);
  t.equal(backoffDelay(3, { ...b, jitter: 'spread' }, () => 1), 5000);
  t.equal(backoffDelay(3, { initialMs: 250, maxMs: Infinity }), 1000, 'no cap');
});

t.test('pool: at most n at a time; the first failure stops new work and is thrown', async (t) => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await pool([1, 2, 3, 4, 5, 6], 2, undefined, async (i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    seen.push(i);
    running--;
  });
  t.equal(peak, 2);
  t.same(seen.sort(), [1, 2, 3, 4, 5, 6]);

  const started: number[] = [];
  let sibling: AbortSignal | undefined;
  await t.rejects(
    pool([1, 2, 3, 4], 2, undefined, async (i, signal) => {
      started.push(i);
      if (i === 1) throw new Error('boom');
      sibling = signal;
      await new Promise((r) => setImmediate(r));
    }),
    /boom/,
  );
  t.same(started, [1, 2], 'nothing starts after the failure');
  t.equal(sibling?.aborted, true, 'siblings are told to stop');

  const ctrl = new AbortController();
  ctrl.abort(new Error('cancelled'));
  await t.rejects(pool([1], 1, ctrl.signal, async () => {}), /cancelled/, 'an aborted signal throws its reason');
});

t.test('linked signals let go of their sources (a long-lived signal keeps no listener per call)', async (t) => {
  const { linkedSignal } = await import('../../src/async/index.js');
  const lifetime = new AbortController();
  for (let i = 0; i < 100; i++) {
    const link = linkedSignal(lifetime.signal);
    link.dispose();
  }
  for (let i = 0; i < 100; i++) await pool([1, 2], 2, lifetime.signal, async () => {});
  t.equal(EventEmitter.getEventListeners(lifetime.signal, 'abort').length, 0, 'nothing left behind after 200 calls');
  const link = linkedSignal(lifetime.signal);
  lifetime.abort(new Error('closing'));
  t.equal(link.signal.aborted, true, 'a source abort reaches the linked signal');
  t.match(link.signal.reason, /closing/);
});
