/**
 * docs/dashboard.png: the main view with a realistic mix of states.
 *   node --import tsx bench/dashboard/screenshot.ts [out.png]     (SCHEME=dark for the dark theme)
 * Starts a private redis-server and the dashboard, seeds ~2,400 records
 * through ImageStore, lets a stand-in worker copy a dozen images for ~40 s
 * (so the throughput sparkline has history), then writes a hand-picked set
 * of recent records in every state and shoots headless Chromium.
 */
import { resolve } from 'node:path';
import { Worker } from 'bullmq';
import { connectRedis, ImageStore, jobOptions, QUEUE_NAME, type ImageRecord } from '../../src/queue/index.js';
import { startRedis } from '../../test/support/redis.js';
import { launchBrowser } from '../../test/dashboard/support/browser.js';
import { startDashboardApp } from '../../test/dashboard/support/context.js';
import { seedBulk, simulateWorker, writeTop } from '../../test/dashboard/support/scene.js';

const out = resolve(process.argv[2] ?? 'docs/dashboard.png');
const historyMs = Number(process.env.SHOT_HISTORY_MS ?? 40_000);
const redis = await startRedis();
const prefix = 'shot';
const seeder = connectRedis(redis.url);
const app = await startDashboardApp({ redisUrl: redis.url, prefix, configure: (c) => (c.mirror.registry = 'mirror.internal:5000'), dashboard: { statsMs: 250 } });
const mirrorRefOf = (ref: string) => app.ctx.mirrorRefOf(ref);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
  await seedBulk(seeder, prefix, mirrorRefOf);
  await app.dashboard.live.reload();
  // Jobs behind the records, so the queue meters show what a busy cluster has.
  const all = await app.ctx.store.listAll();
  const job = (r: ImageRecord, delay = 0) => ({ name: 'copy', data: { ref: r.ref, mirrorRef: r.mirrorRef }, opts: { ...jobOptions(r.ref, 8), ...(delay ? { delay } : {}) } });
  await app.ctx.queue.addBulk([...all.filter((r) => r.state === 'queued').map((r) => job(r)), ...all.filter((r) => r.state === 'retrying').map((r) => job(r, 600_000))]);

  // Phase 1: a stand-in worker copies a dozen images: throughput history, "images copied".
  // Its records are dated 20 minutes back so the hand-picked set of phase 2 leads the table.
  const earlier = new ImageStore(seeder, prefix, () => Date.now() - 20 * 60_000);
  const queued = [
    'docker.io/library/alpine:3.20',
    'docker.io/library/busybox:1.36.1',
    'ghcr.io/dexidp/dex:v2.41.1',
    'registry.k8s.io/coredns/coredns:v1.11.3',
    'docker.io/library/mariadb:11.4',
    'quay.io/argoproj/argocd:v2.12.3',
    'ghcr.io/external-secrets/external-secrets:v0.10.3',
    'registry.k8s.io/metrics-server/metrics-server:v0.7.2',
    'docker.io/library/rabbitmq:3.13-management',
    'docker.io/library/traefik:v3.1',
    'ghcr.io/cloudnative-pg/postgresql:16.4',
    'docker.io/library/memcached:1.6.31',
  ];
  const now = new Date().toISOString();
  for (const ref of queued) {
    await earlier.update(ref, { state: 'queued', mirrorRef: mirrorRefOf(ref), attempts: 0, maxAttempts: 8, source: 'admission', createdAt: now, lastError: null, nextAttemptAt: null, digest: null, mirroredAt: null, blockedReason: null, bytesDone: 0, bytesTotal: 0 }, { upsert: true });
  }
  const start = queued.splice(0, 3);
  for (const ref of start) await earlier.update(ref, { state: 'copying', attempts: 1, bytesDone: 0, bytesTotal: 30_000_000 + Math.round(Math.random() * 40_000_000) });
  let stop = simulateWorker(earlier, start, queued, { everyMs: 200, bytesPerTick: 1_300_000 });
  await sleep(historyMs);
  stop();
  for (const r of await earlier.getMany([...start, ...queued])) {
    // Unfinished copies go back to the queue (as a worker's graceful hand-back does).
    if (r && r.state === 'copying') await earlier.update(r.ref, { state: 'queued', attempts: 0, bytesDone: 0 });
  }

  // Phase 2: the recent set on top (copying ones keep moving), then the picture.
  const copying = await writeTop(seeder, prefix, mirrorRefOf);
  // Three BullMQ jobs held active (the ones the copies above stand for), so "active" is not 0.
  const holderConn = connectRedis(redis.url);
  const holder = new Worker(QUEUE_NAME, () => new Promise(() => {}), { connection: holderConn, prefix, concurrency: copying.length });
  holder.on('error', () => {});
  stop = simulateWorker(app.ctx.store, copying, [], { everyMs: 200, bytesPerTick: 600_000 });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 940 }, deviceScaleFactor: 1, colorScheme: process.env.SCHEME === 'dark' ? 'dark' : 'light' });
    await page.goto(app.url);
    await page.waitForSelector('#conn[data-status="live"]');
    await page.waitForSelector('tr[data-state="copying"] .progress');
    await page.waitForFunction(() => (document.querySelector('.spark-line')?.getAttribute('d') ?? '').split('L').length > 50);
    await sleep(1500);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(0, 0);
    await page.screenshot({ path: out });
    console.log(`wrote ${out}`);
  } finally {
    stop();
    await browser.close();
    await holder.close(true).catch(() => {});
    holderConn.disconnect();
  }
} finally {
  await app.close();
  seeder.disconnect();
  await redis.stop();
}
