/**
 * Dashboard list speed at 10,000 image records.
 *   node --import tsx bench/dashboard/run.ts [records=10000] [requests=50]
 * Starts a private redis-server, seeds the records through ImageStore (real
 * state events), starts the dashboard role on it, then times `GET /api/images`
 * over HTTP: the first page, and a few filtered / searched / sorted pages,
 * while a writer keeps changing records (so the sorted view is rebuilt
 * between requests, the worst case). Target: first page < 100 ms.
 */
import { performance } from 'node:perf_hooks';
import { connectRedis } from '../../src/queue/index.js';
import { startRedis } from '../../test/support/redis.js';
import { startDashboardApp } from '../../test/dashboard/support/context.js';
import { refFor, seedRecords } from '../../test/dashboard/support/seed.js';

const N = Number(process.argv[2] ?? 10_000);
const REQUESTS = Number(process.argv[3] ?? 50);
const TARGET_MS = 100;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const redis = await startRedis();
const seeder = connectRedis(redis.url);
const prefix = 'bench';
const mirrorRefOf = (ref: string) => `mirror.local:5000/${ref}`;
let t0 = performance.now();
await seedRecords(seeder, prefix, N, mirrorRefOf);
const seedMs = performance.now() - t0;

t0 = performance.now();
const app = await startDashboardApp({ redisUrl: redis.url, prefix, configure: (c) => ((c.mirror.registry = 'mirror.local:5000'), (c.log.level = 'warn')), logLevel: 'warn' });
const startMs = performance.now() - t0;

// Churn: one state change every 20 ms during the measurement (each invalidates the sorted view).
let churn = 0;
const writer = setInterval(() => {
  const ref = refFor(churn++ % N);
  void app.ctx.store.update(ref, { state: churn % 2 ? 'copying' : 'mirrored' });
}, 20);

async function time(path: string): Promise<{ median: number; p99: number; max: number; bytes: number; total: number }> {
  const ms: number[] = [];
  let bytes = 0;
  let total = 0;
  for (let i = 0; i < 3; i++) await (await fetch(`${app.url}${path}`)).arrayBuffer(); // warm-up
  for (let i = 0; i < REQUESTS; i++) {
    const s = performance.now();
    const res = await fetch(`${app.url}${path}`);
    const body = Buffer.from(await res.arrayBuffer());
    ms.push(performance.now() - s);
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${body.toString()}`);
    bytes = body.length;
    total = (JSON.parse(body.toString()) as { total: number }).total;
  }
  ms.sort((a, b) => a - b);
  return { median: pct(ms, 50), p99: pct(ms, 99), max: ms[ms.length - 1]!, bytes, total };
}

const cases: [string, string][] = [
  ['first page (default: 50, newest first)', '/api/images'],
  ['first page, limit=200', '/api/images?limit=200'],
  ['state=error', '/api/images?state=error'],
  ['search q=grafana', '/api/images?q=grafana'],
  ['search in errors q="rate limit"', `/api/images?q=${encodeURIComponent('rate limit')}`],
  ['sort=ref asc', '/api/images?sort=ref'],
  ['sort=state, offset=5000', '/api/images?sort=state&offset=5000'],
];

console.log(`ferry dashboard bench: ${N.toLocaleString()} records, ${REQUESTS} requests per case (median / p99 / max, ms)`);
console.log(`  seeding through ImageStore: ${Math.round(seedMs)} ms; dashboard start (index load): ${Math.round(startMs)} ms`);
let firstOk = true;
for (const [name, path] of cases) {
  const r = await time(path);
  const flag = path === '/api/images' ? (r.p99 < TARGET_MS ? '  OK' : '  SLOW') : '';
  if (path === '/api/images' && r.p99 >= TARGET_MS) firstOk = false;
  console.log(`  ${name.padEnd(40)} ${r.median.toFixed(1).padStart(6)} / ${r.p99.toFixed(1).padStart(6)} / ${r.max.toFixed(1).padStart(6)}   ${String(r.total).padStart(6)} matches, ${(r.bytes / 1024).toFixed(0)} KiB${flag}`);
}
const mem = process.memoryUsage();
console.log(`  target: first page p99 < ${TARGET_MS} ms: ${firstOk ? 'met' : 'NOT met'}; heap used ${(mem.heapUsed / 1e6).toFixed(0)} MB with the index loaded; ${churn} records changed during the run`);

clearInterval(writer);
await app.close();
seeder.disconnect();
await redis.stop();
process.exitCode = firstOk ? 0 : 1;
