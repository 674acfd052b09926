/**
 * The in-memory record feed at 100,000 records (issue 14: "feed load time, RSS"):
 *   node --import tsx bench/records/run.ts [--records 100000] [--compare 10000] [--requests 200]
 *
 * For each size (the dashboard bench's 10,000, then 100,000): a fresh
 * redis-server, the records written through ImageStore.update (what workers
 * do: the record hash, state set, updatedAt index and a published event per
 * record; test/dashboard/support/seed.ts, the dashboard bench's realistic
 * mix), then a child process (bench/records/child.ts, `--expose-gc`) that
 * starts the dashboard role on DEFAULT settings and measures:
 *  - load: process context + dashboard start -> the first `GET /api/images`
 *    page answered with every record counted (while the feed loads it is
 *    read from Redis's index), and -> every record loaded into the feed;
 *  - RSS and heap after load, after GC;
 *  - first-page latency at that size (median / p99), quiet and while a
 *    writer changes a record every 20 ms (each change re-sorts the view);
 *  - a record change written in Redis -> applied in the feed (median / p99).
 * Scaling per 10x records is printed; targets: load < 10 s, RSS < 500 MB,
 * first page p99 < 100 ms. Writes bench/out/records.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectRedis } from '../../src/queue/index.js';
import { seedRecords } from '../../test/dashboard/support/seed.js';
import { startRedis } from '../../test/support/redis.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    compare: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
  },
});
const SIZES = [Number(args.compare), Number(args.records)].filter((n) => n > 0);
const PREFIX = 'ferry';
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Figures {
  records: number;
  feedLoadedMs: number;
  firstPageMs: number;
  firstPageBeforeFeed: boolean;
  rssBaselineMB: number;
  rssLoadedMB: number;
  heapUsedLoadedMB: number;
  heapPerRecordBytes: number;
  firstPageQuietMs: { median: number; p99: number; max: number };
  firstPageChurnMs: { median: number; p99: number; max: number };
  sortRefChurnMs: { median: number; p99: number; max: number };
  changeToFeedMs: { median: number; p99: number; max: number };
  seedMs?: number;
  redisUsedMB?: number;
}

function measure(redisUrl: string, n: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', new URL('./child.ts', import.meta.url).pathname, redisUrl, PREFIX, String(n), args.requests!], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`child exited ${code}: ${out}`));
      resolve(JSON.parse(line) as Figures);
    });
  });
}

const out: Record<string, unknown> = { sizes: SIZES };
try {
  out.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  /* not a checkout */
}
const results: Figures[] = [];
for (const n of SIZES) {
  const redis = await startRedis();
  try {
    const seeder = connectRedis(redis.url);
    const t0 = performance.now();
    await seedRecords(seeder, PREFIX, n, (ref) => `mirror.local:5000/${ref}`);
    const seedMs = performance.now() - t0;
    const used = /used_memory:(\d+)/.exec(await seeder.info('memory'))?.[1];
    seeder.disconnect();
    log(`${n.toLocaleString()} records written through ImageStore in ${(seedMs / 1000).toFixed(1)} s; measuring...`);
    const f = await measure(redis.url, n);
    results.push({ ...f, seedMs, redisUsedMB: Math.round(Number(used) / 1e6) });
  } finally {
    await redis.stop();
  }
}
out.results = results;

const f2 = (x: number) => x.toFixed(1);
console.log(`\nferry records bench — the record feed + dashboard index on DEFAULT settings, child process per size; commit ${out.commit ?? '?'}; ${availableParallelism()} CPUs, load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const r of results) {
  console.log(`\n${r.records.toLocaleString()} records (Redis ${r.redisUsedMB} MB, seeded in ${((r.seedMs ?? 0) / 1000).toFixed(1)} s)`);
  console.log(`  feed loaded                     ${(r.feedLoadedMs / 1000).toFixed(2)} s after start`);
  console.log(`  first page, total = all records ${(r.firstPageMs / 1000).toFixed(2)} s after start${r.firstPageBeforeFeed ? ' (from Redis: the feed was still loading)' : ''}`);
  console.log(`  RSS after load + GC             ${r.rssLoadedMB} MB (${r.rssBaselineMB} MB before anything loaded); heap ${r.heapUsedLoadedMB} MB, ${r.heapPerRecordBytes} B/record`);
  console.log(`  GET /api/images, quiet          ${f2(r.firstPageQuietMs.median)} / ${f2(r.firstPageQuietMs.p99)} ms (median / p99)`);
  console.log(`  GET /api/images, churning       ${f2(r.firstPageChurnMs.median)} / ${f2(r.firstPageChurnMs.p99)} ms`);
  console.log(`  ?sort=ref, churning             ${f2(r.sortRefChurnMs.median)} / ${f2(r.sortRefChurnMs.p99)} ms`);
  console.log(`  change in Redis -> in the feed  ${f2(r.changeToFeedMs.median)} / ${f2(r.changeToFeedMs.p99)} ms`);
}
if (results.length === 2) {
  const [a, b] = results as [Figures, Figures];
  const k = b.records / a.records;
  const scale = {
    records: k,
    load: b.feedLoadedMs / a.feedLoadedMs,
    rssAboveBaseline: (b.rssLoadedMB - b.rssBaselineMB) / Math.max(1, a.rssLoadedMB - a.rssBaselineMB),
    heapPerRecord: b.heapPerRecordBytes / Math.max(1, a.heapPerRecordBytes),
    firstPageChurnMedian: b.firstPageChurnMs.median / a.firstPageChurnMs.median,
  };
  out.scaling = scale;
  console.log(`\nscaling for ${k}x the records: load ${scale.load.toFixed(1)}x, RSS above baseline ${scale.rssAboveBaseline.toFixed(1)}x, heap per record ${scale.heapPerRecord.toFixed(2)}x, first page (churning) ${scale.firstPageChurnMedian.toFixed(1)}x`);
}
const big = results.at(-1)!;
const ok = { load: big.feedLoadedMs < 10_000, rss: big.rssLoadedMB < 500, firstPage: big.firstPageChurnMs.p99 < 100 };
out.targets = ok;
console.log(`targets at ${big.records.toLocaleString()}: feed load < 10 s ${ok.load ? 'met' : 'NOT met'}; RSS < 500 MB ${ok.rss ? 'met' : 'NOT met'}; first page p99 < 100 ms ${ok.firstPage ? 'met' : 'NOT met'}`);
mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'records.json'), JSON.stringify(out, null, 2));
if (!ok.load || !ok.rss || !ok.firstPage) process.exitCode = 1;
