import t from 'tap';
import { pino } from 'pino';
import { AGENT_ERROR_TABLE } from '../../src/agent/errors.js';
import { StartupTaint } from '../../src/agent/taint.js';

const logger = pino({ level: 'silent' });

t.test('removed once, only when ready; an error is recorded and retried', async (t) => {
  const calls: string[] = [];
  let fail = 1;
  let changes = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const taint = new StartupTaint({
    key: 'ferry.dev/images',
    remove: async (key) => {
      calls.push(key);
      if (fail-- > 0) throw AGENT_ERROR_TABLE.create('TAINT_FAILED', 'HTTP 403: forbidden');
      return 'removed';
    },
    backoff: () => ({ initialMs: 30, maxMs: 100 }),
    logger,
    onChange: () => {
      changes++;
      if (taint.done) resolveDone();
    },
  });
  t.teardown(() => taint.close());
  taint.ready(false);
  t.same(calls, [], 'not while images are missing');
  taint.ready(true);
  await new Promise<void>((r) => setImmediate(r));
  await done;
  t.same(calls, ['ferry.dev/images', 'ferry.dev/images'], 'failed once, retried');
  t.match(taint.state, { key: 'ferry.dev/images', removed: true, removedAt: /Z$/ });
  t.notOk(taint.state.error, 'error cleared');
  t.ok(changes >= 2);
  taint.ready(true);
  taint.ready(false);
  taint.ready(true);
  t.equal(calls.length, 2, 'never again once removed');
});

t.test('the failed state says why', async (t) => {
  let seen!: () => void;
  const failed = new Promise<void>((r) => (seen = r));
  const taint = new StartupTaint({
    key: 'k',
    remove: async () => {
      throw AGENT_ERROR_TABLE.create('TAINT_FAILED', 'HTTP 403: forbidden');
    },
    backoff: () => ({ initialMs: 60_000, maxMs: 60_000 }),
    logger,
    onChange: () => seen(),
  });
  t.teardown(() => taint.close());
  taint.ready(true);
  await failed;
  t.match(taint.state, { key: 'k', removed: false, error: /^\[FERRY_ERR_AGENT_TAINT_FAILED\] HTTP 403/ });
});

t.test('no cluster: never removed, the state says why', async (t) => {
  const taint = new StartupTaint({ key: 'k', remove: undefined, backoff: () => ({ initialMs: 1, maxMs: 1 }), logger, onChange: () => {} });
  taint.ready(true);
  t.match(taint.state, { key: 'k', removed: false, error: /no cluster configured/ });
});
