/**
 * The page in headless Chromium (playwright-core + Debian's chromium) against
 * the real stack: Redis, a real worker pool, an upstream registry behind a
 * throttling proxy (so `copying` lasts a few seconds) and a mirror registry.
 * Every wait is on DOM state; no fixed sleeps.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connectRedis } from '../../src/queue/index.js';
import type { WorkerPool } from '../../src/worker/index.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { launchBrowser } from './support/browser.js';
import { startDashboardApp, type Running } from './support/context.js';
import { call } from './support/http.js';
import { refFor, seedRecords, stateFor } from './support/seed.js';
import { startThrottleProxy } from '../support/throttle-proxy.js';

const TOKEN = 'browser-token';
const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
const slow = await startThrottleProxy(upstream.host, 1_000_000); // ~1 MB/s back from upstream
const layouts = mkdtempSync(join(tmpdir(), 'ferry-dash-browser-'));
const app: Running = await startDashboardApp({
  redisUrl: redis.url,
  prefix: 'ui',
  configure: (c) => {
    c.dashboard.token = TOKEN;
    c.mirror.registry = mirror.host;
    c.queue.maxAttempts = 2;
    c.queue.backoff = { initialMs: 100, maxMs: 1000 };
  },
});
let browser: Browser | undefined;
let worker: WorkerPool | undefined;
t.teardown(async () => {
  await browser?.close();
  await app.close();
  await slow.close();
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
  rmSync(layouts, { recursive: true, force: true });
});

// Some background records so the table is not empty: 40 records in every state.
const seeder = connectRedis(redis.url);
await seedRecords(seeder, 'ui', 40, (ref) => app.ctx.mirrorRefOf(ref), { now: Date.now() - 3_600_000 });
seeder.disconnect();
await app.dashboard.live.reload();

browser = await launchBrowser();
const page: Page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => {
  // 401s are expected (the token tests): Chromium logs every failed request.
  if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(m.text());
});
// Records every state and progress value each row shows, as the DOM changes.
await page.addInitScript(() => {
  const w = window as unknown as { __states: Record<string, string[]>; __progress: Record<string, number[]> };
  w.__states = {};
  w.__progress = {};
  const scan = () => {
    for (const tr of document.querySelectorAll<HTMLTableRowElement>('tr[data-ref]')) {
      const ref = tr.dataset.ref!;
      const list = (w.__states[ref] ??= []);
      if (list[list.length - 1] !== tr.dataset.state) list.push(tr.dataset.state!);
      const bar = tr.querySelector('.progress');
      if (bar) {
        const p = (w.__progress[ref] ??= []);
        const v = Number(bar.getAttribute('aria-valuenow'));
        if (p[p.length - 1] !== v) p.push(v);
      }
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'aria-valuenow'] });
});
await page.goto(app.url);
await page.waitForSelector('#conn[data-status="live"]');
await page.waitForSelector('tr[data-ref]');

const row = (ref: string, state?: string) => `tr[data-ref="${ref}"]${state ? `[data-state="${state}"]` : ''}`;
const seen = (ref: string) => page.evaluate((r) => (window as unknown as { __states: Record<string, string[]> }).__states[r] ?? [], ref);

t.test('an action without the token is refused, and the UI says so', async (t) => {
  await page.fill('#add-ref', 'docker.io/library/nginx:1.27');
  await page.click('#add-form button[type="submit"]');
  const dialog = page.locator('#token-dialog');
  await dialog.waitFor({ state: 'visible' });
  t.match(await page.textContent('#token-why'), /needs the dashboard token/);
  // A wrong token is refused by the server: the dialog asks again and says why.
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-dialog button[value="ok"]');
  await page.waitForFunction(() => /refused/.test(document.querySelector('#token-why')?.textContent ?? ''));
  t.ok(await dialog.isVisible(), 'asked again after a wrong token');
  await page.click('#token-dialog button[value="cancel"]');
  await page.waitForSelector('.toast.bad');
  t.match(await page.textContent('.toast.bad'), /Refused: this action needs the dashboard token/);
  t.match(await page.textContent('#add-error'), /needs the dashboard token/);
  t.equal(await page.getAttribute('#add-ref', 'aria-invalid'), 'true');
  t.equal((await call(app.url, 'GET', `/api/images/${encodeURIComponent('docker.io/library/nginx:1.27')}`)).status, 404, 'nothing was added');
  t.equal(await page.evaluate(() => sessionStorage.getItem('ferry.dashboard.token')), null);
  await page.fill('#add-ref', '');
});

t.test('an added image moves queued -> copying (progress advancing) -> mirrored, live', async (t) => {
  const layout = join(layouts, 'big');
  const image = buildImage(layout, { tag: '1.0', layerSizes: [900_000, 900_000, 900_000, 600_000] });
  await pushImage(layout, '1.0', `${upstream.host}/team/big:1.0`);
  const ref = `${slow.host}/team/big:1.0`; // the same registry, through the slow proxy

  await page.fill('#add-ref', ref);
  await page.click('#add-form button[type="submit"]');
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', TOKEN);
  await page.click('#token-dialog button[value="ok"]');
  await page.waitForSelector(row(ref, 'queued'));
  t.equal(await page.evaluate(() => sessionStorage.getItem('ferry.dashboard.token')), TOKEN, 'token kept for the tab');
  t.match(await page.textContent('.toast:not(.bad)'), /Queued for mirroring/);

  worker = app.startWorker();
  await page.waitForSelector(`${row(ref, 'copying')} .progress`, { timeout: 20_000 });
  const first = Number(await page.getAttribute(`${row(ref)} .progress`, 'aria-valuenow'));
  await page.waitForFunction(
    ([sel, v]) => Number(document.querySelector(sel as string)?.getAttribute('aria-valuenow') ?? 101) > (v as number),
    [`${row(ref)} .progress`, first] as const,
    { timeout: 20_000 },
  );
  t.match(await page.textContent(`${row(ref)} .progress-text`), / of .* · \d+%/);
  await page.waitForSelector(row(ref, 'mirrored'), { timeout: 30_000 });
  t.same(await seen(ref), ['queued', 'copying', 'mirrored'], 'every state shown, in order, without a reload');
  const progress = await page.evaluate((r) => (window as unknown as { __progress: Record<string, number[]> }).__progress[r] ?? [], ref);
  t.ok(progress.length >= 3, `progress bar moved through ${progress.join(', ')}%`);
  t.same(progress, [...progress].sort((a, b) => a - b), 'progress only advances');
  t.equal(await page.textContent(`${row(ref)} .digest`), `sha256:${image.digest.slice(7, 15)}`, 'short digest shown');
  t.equal(await page.getAttribute(`${row(ref)} .digest`, 'title'), `${image.digest} (click to copy)`);
  t.equal((await inspectRaw(app.ctx.mirrorRefOf(ref)))?.digest, image.digest, 'really in the mirror');
  await page.waitForFunction(() => Number((document.querySelector('[data-count="mirrored"]')?.textContent ?? '0').replace(/\D/g, '')) > 0);
  await page.waitForFunction(() => !/^0 images/.test(document.querySelector('#tp-sub')?.textContent ?? '0 images'), undefined, { timeout: 10_000 });
  t.match(await page.textContent('#tp-sub'), /\d+ images? copied/);
});

t.test('a missing upstream image reaches error; its Retry button re-queues it', async (t) => {
  t.ok(worker, 'worker running');
  const ref = `${upstream.host}/team/does-not-exist:1`;
  t.equal((await call(app.url, 'POST', '/api/images', { body: { ref }, token: TOKEN })).status, 202);
  await page.waitForSelector(row(ref, 'error'), { timeout: 20_000 });
  t.match(await page.textContent(`${row(ref)} .err summary`), /not found|unknown/i);
  // Expand the error.
  await page.click(`${row(ref)} .err summary`);
  t.ok(await page.isVisible(`${row(ref)} .err-full`), 'full error shown');
  t.match(await page.textContent(`${row(ref)} .attempts`), /\/ 2/);
  const before = (await seen(ref)).length;
  await page.click(`${row(ref)} button[data-action="retry"]`); // token from the session: no dialog
  await page.waitForFunction(
    ([r, n]) => ((window as unknown as { __states: Record<string, string[]> }).__states[r as string] ?? []).length > (n as number) + 1,
    [ref, before] as const,
    { timeout: 20_000 },
  );
  await page.waitForSelector(row(ref, 'error'), { timeout: 20_000 });
  const after = (await seen(ref)).slice(before);
  t.ok(after.includes('queued') || after.includes('copying'), `left error after Retry: ${after.join(' -> ')}`);
  t.equal(after[after.length - 1], 'error', 'and failed again (the image still does not exist)');
  t.notOk(await page.isVisible('#token-dialog'), 'no token prompt once the token is known');
});

t.test('search and the state filter narrow the table; the URL keeps them', async (t) => {
  const all = Array.from({ length: 40 }, (_x, i) => ({ ref: refFor(i), state: stateFor(i) }));
  const grafana = all.filter((r) => r.ref.includes('grafana'));
  t.ok(grafana.length >= 2);
  await page.keyboard.press('Escape');
  await page.click('body');
  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'q', '"/" focuses the search box');
  await page.keyboard.type('grafana');
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll<HTMLTableRowElement>('#rows tr[data-ref]')];
    return rows.length === n && rows.every((r) => r.dataset.ref!.includes('grafana'));
  }, grafana.length);
  t.match(page.url(), /\?q=grafana/);
  t.match(await page.textContent('#range'), new RegExp(`of ${grafana.length} matching`));

  // + state filter: only the error ones among them (the counters are the filter buttons).
  await page.fill('#q', '');
  await page.click('.counter[data-state="error"]');
  t.equal(await page.getAttribute('.counter[data-state="error"]', 'aria-pressed'), 'true');
  const errors = (await call(app.url, 'GET', '/api/images?state=error&limit=500')).body.total as number;
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll<HTMLTableRowElement>('#rows tr[data-ref]')];
    return rows.length === n && rows.every((r) => r.dataset.state === 'error');
  }, errors);
  t.match(page.url(), /state=error/);
  // Counter shows the same number as the rows.
  t.equal(Number((await page.textContent('[data-count="error"]'))!.replace(/\D/g, '')), errors);

  // A search with no match says so.
  await page.fill('#q', 'no-such-image-anywhere');
  await page.waitForSelector('#rows tr.empty');
  t.match(await page.textContent('#rows tr.empty'), /No images match/);
  await page.fill('#q', '');
  await page.click('.counter[data-state=""]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr[data-ref]').length > 40);
});

t.test('block with a reason and remove after confirming, from the page', async (t) => {
  const ref = refFor(0);
  await page.fill('#q', ref);
  await page.waitForSelector(row(ref));
  await page.click(`${row(ref)} button[data-action="block"]`);
  await page.locator('#block-dialog').waitFor({ state: 'visible' });
  await page.fill('#block-reason', 'CVE-2024-1234 in openssl');
  await page.click('#block-dialog button[value="ok"]');
  await page.waitForSelector(row(ref, 'blocked'));
  t.match(await page.textContent(`${row(ref)} .blocked-reason`), /CVE-2024-1234 in openssl/);
  t.ok(await page.isVisible(`${row(ref)} button[data-action="unblock"]`));

  // Remove asks first; Cancel keeps the image.
  await page.click(`${row(ref)} button[data-action="remove"]`);
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  await page.click('#confirm-dialog button[value="cancel"]');
  t.equal((await call(app.url, 'GET', `/api/images/${encodeURIComponent(ref)}`)).status, 200, 'cancel keeps it');
  await page.click(`${row(ref)} button[data-action="remove"]`);
  await page.click('#confirm-dialog button[value="ok"]');
  await page.waitForSelector(row(ref), { state: 'detached' });
  t.equal((await call(app.url, 'GET', `/api/images/${encodeURIComponent(ref)}`)).status, 404);
  await page.fill('#q', '');
  t.same(pageErrors, [], 'no script errors in the page');
});

t.test('the live stream reconnects by itself and catches up on what it missed', async (t) => {
  const ref = refFor(1);
  await page.waitForSelector(row(ref, 'mirrored'));
  app.ctx.http.server.closeAllConnections(); // drops the EventSource (a proxy restart, a network blip)
  await page.waitForSelector('#conn:not([data-status="live"])');
  // Changed while the page is disconnected: this event is never delivered to it.
  await app.ctx.store.update(ref, { state: 'blocked', blockedReason: 'changed while offline' });
  await page.waitForSelector('#conn[data-status="live"]', { timeout: 15_000 });
  await page.waitForSelector(row(ref, 'blocked'));
  t.match(await page.textContent(`${row(ref)} .blocked-reason`), /changed while offline/);
});

t.test('bull-board is mounted at /queues and linked from the page', async (t) => {
  t.equal(await page.getAttribute('a.board-link', 'href'), '/queues/');
  const board = await browser!.newPage();
  t.teardown(() => board.close());
  await board.goto(`${app.url}/queues/`);
  await board.getByText('mirror', { exact: true }).first().waitFor({ timeout: 15_000 });
  t.pass('bull-board lists the mirror queue');
});
