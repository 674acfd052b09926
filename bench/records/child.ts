/**
 * The measured side of bench/records (run by run.ts, one process per size):
 *   node --expose-gc --import tsx bench/records/child.ts <redisUrl> <prefix> <records> <requests>
 * Builds the composition root's context (createContext) on DEFAULT settings
 * (only queue.redisUrl / prefix, dashboard.port 0 and log level set) and
 * starts the dashboard role as `ferry dashboard` does: the RecordFeed loads
 * every record, the ImageIndex reads it. Prints one JSON line of figures.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig } from '../../src/config/index.js';
import { createDashboard, dashboardBindHost } from '../../src/dashboard/index.js';
import { connectRedis, ImageStore, type ImageRecord } from '../../src/queue/index.js';
import { createContext } from '../../src/runtime/index.js';

const [redisUrl = '', prefix = 'ferry', nArg = '0', reqArg = '200'] = process.argv.slice(2);
const N = Number(nArg);
const REQUESTS = Number(reqArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1]! };
};
const mb = (b: number) => Math.round(b / 1e6);

gc();
const baseline = process.memoryUsage();
const config: FerryConfig = structuredClone(DEFAULTS);
config.queue = { ...config.queue, redisUrl, prefix };
config.dashboard = { ...config.dashboard, port: 0 };
config.log = { level: 'warn' };
const logger = pino({ level: 'warn' });

// ---- load: from nothing to the first page of GET /api/images answered with every record counted
// (while the feed loads, that page comes from Redis's index: src/dashboard/api.ts pageFromRedis), and to the feed loaded
const t0 = performance.now();
const ctx = createContext({ config, explicit: new Set(), file: undefined }, logger, {});
const feed = ctx.records();
let feedLoadedMs = 0;
feed.once('reloaded', () => (feedLoadedMs = performance.now() - t0));
const dashboard = await createDashboard(ctx, {});
const url = (await ctx.http.listen({ port: 0, host: dashboardBindHost(ctx.config()) })).replace('0.0.0.0', '127.0.0.1');
let firstPage: { status: number; total: number } = { status: 0, total: 0 };
let unavailable = 0;
for (;;) {
  const res = await fetch(`${url}/api/images`);
  const body = (await res.json()) as { total?: number };
  firstPage = { status: res.status, total: body.total ?? 0 };
  if (res.status === 200 && firstPage.total === N) break;
  unavailable++;
  if (performance.now() - t0 > 120_000) throw new Error(`no first page with ${N} records after 120 s: ${JSON.stringify(firstPage)}`);
}
const firstPageMs = performance.now() - t0;
const firstPageBeforeFeed = !feed.loaded;
if (!(await feed.whenLoaded(300_000))) throw new Error('the feed did not load within 300 s');

// ---- memory with everything loaded
gc();
gc();
const loaded = process.memoryUsage();

// ---- first-page latency, quiet, then while a writer changes one record every 20 ms (each change invalidates the sorted view)
const time = async (path: string): Promise<number[]> => {
  const ms: number[] = [];
  for (let i = 0; i < 3; i++) await (await fetch(`${url}${path}`)).arrayBuffer();
  for (let i = 0; i < REQUESTS; i++) {
    const s = performance.now();
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    ms.push(performance.now() - s);
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  }
  return ms;
};
const quiet = stats(await time('/api/images'));
const writerConn = connectRedis(redisUrl);
const writer = new ImageStore(writerConn, prefix);
const refs = [...feed.values()].slice(0, 1000).map((r: ImageRecord) => r.ref);
let churn = 0;
const timer = setInterval(() => void writer.update(refs[churn++ % refs.length]!, { state: churn % 2 ? 'copying' : 'mirrored' }), 20);
const churning = stats(await time('/api/images'));
const sortedByRef = stats(await time('/api/images?sort=ref'));
clearInterval(timer);

// ---- a record change: written through ImageStore in Redis -> applied in this process's feed
const arrivals: number[] = [];
for (let i = 0; i < 100; i++) {
  const ref = refs[i]!;
  const arrived = new Promise<number>((resolve) => {
    const on = (ev: { ref: string }) => {
      if (ev.ref !== ref) return;
      feed.off('event', on);
      resolve(performance.now());
    };
    feed.on('event', on);
  });
  const s = performance.now();
  await writer.update(ref, { lastError: `bench change ${i}` });
  arrivals.push((await arrived) - s);
}
const change = stats(arrivals);

console.log(
  JSON.stringify({
    records: N,
    feedLoadedMs,
    firstPageMs,
    firstPageStatusesBeforeReady: unavailable,
    firstPageBeforeFeed,
    rssBaselineMB: mb(baseline.rss),
    rssLoadedMB: mb(loaded.rss),
    heapUsedLoadedMB: mb(loaded.heapUsed),
    heapPerRecordBytes: Math.round((loaded.heapUsed - baseline.heapUsed) / Math.max(1, N)),
    firstPageQuietMs: quiet,
    firstPageChurnMs: churning,
    sortRefChurnMs: sortedByRef,
    changeToFeedMs: change,
    churnWrites: churn,
  }),
);
writerConn.disconnect();
await dashboard.close();
ctx.http.server.closeAllConnections();
await ctx.close();
