/**
 * Scheduling of GC and drift refresh (src/watch/maintenance.ts): BullMQ job
 * schedulers that follow the config, one run per tick across replicas, and
 * `runNow` under the per-task lock. Real redis-server.
 */
import t from 'tap';
import type { Test } from 'tap';
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../../src/config/index.js';
import { gcReportKey, type GcReport } from '../../src/gc/index.js';
import { connectRedis, createQueue, ImageStore, Producer } from '../../src/queue/index.js';
import type { RefreshReport } from '../../src/refresh/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { Maintenance } from '../../src/watch/maintenance.js';
import { gcConfig, logger } from '../gc/support/env.js';
import { startRedis } from '../support/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

let prefixes = 0;

function replica(t: Test, prefix: string, config: () => FerryConfig, consume = true) {
  const conns: Redis[] = [];
  const conn = () => {
    const c = connectRedis(redis.url);
    conns.push(c);
    return c;
  };
  const main = conn();
  const store = new ImageStore(main, prefix);
  const queue = createQueue(main, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => 2, bufferLimit: 100 });
  const engine = new RegistryEngine({ config: config(), retries: 0 });
  const m = new Maintenance({ config, redis: main, ...(consume ? { workerConnection: conn() } : {}), store, producer, engine, logger, mirrorRefOf: (r) => `m:5000/${r}` });
  t.teardown(async () => {
    await m.close();
    await producer.close();
    await queue.close();
    await engine.close();
    for (const c of conns) c.disconnect();
  });
  return { m, main };
}

t.test('schedulers follow the config: gc while enabled, refresh unless its schedule is ""', async (t) => {
  const prefix = `mt${++prefixes}`;
  let config = gcConfig({ mirror: '127.0.0.1:5999', prefix, gc: { schedule: '0 3 * * *' }, refresh: { schedule: '*/30 * * * *' } });
  const { m } = replica(t, prefix, () => config, false);
  await m.start();
  let s = await m.schedules();
  t.same([s.get('gc')?.pattern, s.get('refresh')?.pattern], ['0 3 * * *', '*/30 * * * *']);
  config = { ...config, gc: { ...config.gc, enabled: false }, refresh: { ...config.refresh, schedule: '' } };
  await m.sync();
  t.same([...(await m.schedules()).keys()], [], 'both off');
  config = { ...config, gc: { ...config.gc, enabled: true, schedule: '15 4 * * *' } };
  await m.sync();
  s = await m.schedules();
  t.same([s.get('gc')?.pattern, s.has('refresh')], ['15 4 * * *', false], 'rescheduled on the new pattern');
});

t.test('two replicas: one run per tick', async (t) => {
  const prefix = `mt${++prefixes}`;
  const config = gcConfig({ mirror: '127.0.0.1:5999', prefix, gc: { enabled: false }, refresh: { schedule: '* * * * * *', inUseOnly: false } });
  const runs: RefreshReport[] = [];
  const a = replica(t, prefix, () => config);
  const b = replica(t, prefix, () => config);
  a.m.on('refresh', (r) => runs.push(r));
  b.m.on('refresh', (r) => runs.push(r));
  const started = Date.now();
  await Promise.all([a.m.start(), b.m.start()]);
  await new Promise((r) => setTimeout(r, 3500));
  const seconds = (Date.now() - started) / 1000;
  t.ok(runs.length >= 1, `ran (${runs.length} runs in ${seconds.toFixed(1)} s)`);
  t.ok(runs.length <= Math.ceil(seconds) + 1, `at most one run per tick across both replicas (${runs.length} in ${seconds.toFixed(1)} s)`);
});

t.test('runNow runs under the task lock and stores the GC report', async (t) => {
  const prefix = `mt${++prefixes}`;
  const config = gcConfig({ mirror: '127.0.0.1:5999', prefix, refresh: { schedule: '', inUseOnly: false } });
  const { m, main } = replica(t, prefix, () => config, false);
  const emitted = new Promise<GcReport>((r) => m.once('gc', r));
  const report = await m.runNow('gc');
  t.match(report, { skipped: /watches no pods/ }, 'no in-use index: GC refuses');
  t.same(await emitted, report);
  t.same(JSON.parse((await main.get(gcReportKey(prefix)))!), report);
  t.match(await m.runNow('refresh'), { skipped: null, targets: 0 });

  await main.set(`${prefix}:gc:lock`, 'someone-else', 'PX', 60_000);
  t.equal(await m.runNow('gc'), undefined, 'another run holds the lock: skipped');
});

t.test('POST /api/gc/run and /api/refresh/run: run now behind the mutation guard, 202 while another run holds the lock', async (t) => {
  const Fastify = (await import('fastify')).default;
  const { watchRoutes } = await import('../../src/watch/index.js');
  const prefix = `mt${++prefixes}`;
  let config = gcConfig({ mirror: '127.0.0.1:5999', prefix });
  const { m, main } = replica(t, prefix, () => config, false);
  await m.start();
  const app = Fastify();
  t.teardown(() => app.close());
  // Only the run routes are exercised: they never touch the watcher.
  await app.register(watchRoutes({} as never, () => config, logger, m));
  const gc = await app.inject({ method: 'POST', url: '/api/gc/run' });
  t.equal(gc.statusCode, 200);
  const report = gc.json() as GcReport;
  t.match(report.skipped, /pod/, 'without a pod watch GC refuses, and says so');
  t.same(JSON.parse((await main.get(gcReportKey(prefix)))!), report, 'the report GET /api/gc reads is the one answered');
  const refresh = await app.inject({ method: 'POST', url: '/api/refresh/run' });
  t.equal(refresh.statusCode, 200, 'refresh runs too');
  t.type((refresh.json() as RefreshReport).checked, 'number');

  await main.set(`${prefix}:gc:lock`, 'another-replica', 'PX', 60_000);
  const busy = await app.inject({ method: 'POST', url: '/api/gc/run' });
  t.equal(busy.statusCode, 202);
  t.match(busy.json(), { task: 'gc', deferred: true });
  await main.del(`${prefix}:gc:lock`);

  config = { ...config, dashboard: { ...config.dashboard, token: 's3cret' } };
  t.equal((await app.inject({ method: 'POST', url: '/api/gc/run' })).statusCode, 401, 'with dashboard.token set, no token: refused');
  t.equal((await app.inject({ method: 'POST', url: '/api/gc/run', headers: { authorization: 'Bearer s3cret' } })).statusCode, 200, 'with it: runs');
});
