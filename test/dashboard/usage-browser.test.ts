/**
 * "Who runs what" and GC on the page, in headless Chromium (playwright-core
 * + Debian's chromium): the Used-by column, its drill-down of pods, the flag
 * on blocked images pods still run, drift, the GC panel, and the page
 * without a cluster view. Pods are written into the in-use index through
 * InUseStore as the pod tracker does. Every wait is on DOM state.
 */
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { InUseStore } from '../../src/in-use/index.js';
import type { ImageRecord } from '../../src/queue/index.js';
import { startRedis } from '../support/redis.js';
import { launchBrowser } from './support/browser.js';
import { startDashboardApp, type Running } from './support/context.js';
import { digest, sampleGcReport, seedPod, syncTracker, writeGcReport } from './support/in-use.js';

const NGINX = 'docker.io/library/nginx:1.27';
const REDIS = 'docker.io/library/redis:7';
const BAD = 'docker.io/library/bad-base:1';
const DRIFTED = 'ghcr.io/acme/api:stable';
const NEVER = 'docker.io/library/busybox:1.36';

const redis = await startRedis();
const start = (prefix: string) => startDashboardApp({ redisUrl: redis.url, prefix, configure: (c) => (c.mirror.registry = 'mirror.local:5000'), dashboard: { clusterViewCacheMs: 0 } });
const [app, bare] = await Promise.all([start('ui-use'), start('ui-bare')]);
let browser: Browser | undefined;
t.teardown(async () => {
  await browser?.close();
  await Promise.all([app.close(), bare.close()]);
  await redis.stop();
});

async function putRecord(a: Running, ref: string, patch: Partial<ImageRecord> = {}): Promise<void> {
  await a.ctx.store.update(ref, { state: 'mirrored', mirrorRef: a.ctx.mirrorRefOf(ref), attempts: 1, maxAttempts: 3, digest: digest('1'), bytesTotal: 1_000_000, ...patch }, { upsert: true });
}

const hourAgo = Date.now() - 3_600_000;
for (const a of [app, bare]) {
  await putRecord(a, NGINX);
  await putRecord(a, REDIS, { digest: digest('2') });
  await putRecord(a, BAD, { state: 'blocked', blockedReason: 'CVE-2099-0042' });
  await putRecord(a, DRIFTED, { digest: digest('3'), driftedAt: new Date(hourAgo).toISOString() });
  await putRecord(a, NEVER, { digest: digest('4') });
  await a.dashboard.live.reload();
}
let clock = hourAgo;
const store = new InUseStore(app.ctx.redis('test-in-use'), 'ui-use', () => clock);
await seedPod(store, 'cache', 'redis-0', [{ ref: REDIS, digest: digest('2') }]);
await store.removePod('cache', 'redis-0'); // redis last ran an hour ago
clock = Date.now();
await seedPod(store, 'shop', 'web-1', [{ ref: NGINX, digest: digest('1') }, { ref: NGINX, container: 'sidecar', digest: digest('1') }]);
await seedPod(store, 'shop', 'web-2', [{ ref: NGINX, digest: digest('1'), node: 'node-2' }]);
await seedPod(store, 'blog', 'front-1', [{ ref: NGINX, digest: digest('9'), node: null }]);
await seedPod(store, 'legacy', 'old-1', [{ ref: BAD }]);
await syncTracker(store);
await writeGcReport(app.ctx.connection, 'ui-use', sampleGcReport());

browser = await launchBrowser();
const pageErrors: string[] = [];
async function open(a: Running): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The event stream cut on purpose (the GC test) is logged by Chromium as a failed load.
  page.on('console', (m) => void (m.type() === 'error' && !/ERR_INCOMPLETE_CHUNKED_ENCODING/.test(m.text()) && pageErrors.push(m.text())));
  await page.goto(a.url);
  await page.waitForSelector('#images[aria-busy="false"]');
  return page;
}
const row = (ref: string) => `tr[data-ref="${ref}"]`;

const page = await open(app);
t.teardown(() => page.close());

t.test('the Used-by column: pods and namespaces, unused since, never seen', async (t) => {
  t.equal(await page.textContent('th.col-used'), 'Used by ', 'no note in the header while the pod watch is live');
  t.equal(await page.isVisible('#used-note'), false);
  t.equal(await page.textContent(`${row(NGINX)} .used-btn`), '3 pods · 2 namespaces');
  t.equal(await page.getAttribute(`${row(NGINX)} .used-btn`, 'aria-label'), `Show the 3 pods running ${NGINX}`);
  t.match(await page.textContent(`${row(REDIS)} td.used`), /^unused\s*last ran 1h ago$/);
  t.equal(await page.textContent(`${row(NEVER)} td.used`), '—');
  t.match(await page.getAttribute(`${row(NEVER)} td.used .none`, 'title'), /No pod has run it/);
});

t.test('the drill-down lists every container running the image, and says which runs another digest', async (t) => {
  await page.click(`${row(NGINX)} .used-btn`);
  const dialog = page.locator('#pods-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.waitForSelector('#pods-dialog[aria-busy="false"] #pods-rows tr[data-pod]');
  t.equal(await page.textContent('#pods-ref'), NGINX);
  t.equal(await page.textContent('#pods-status'), '3 pods in 2 namespaces');
  const cells = await page.$$eval('#pods-rows tr[data-pod]', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  t.same(cells, [
    ['blog', 'front-1', 'app', '—', 'sha256:99999999not the mirrored digest'],
    ['shop', 'web-1', 'app', 'node-1', 'sha256:11111111'],
    ['shop', 'web-1', 'sidecar', 'node-1', 'sha256:11111111'],
    ['shop', 'web-2', 'app', 'node-2', 'sha256:11111111'],
  ]);
  t.equal(await page.getAttribute('#pods-rows tr[data-pod="blog/front-1"] code', 'title'), digest('9'), 'the full digest on hover');

  // A pod that starts while the dialog is open shows on Refresh (and on reopening).
  await seedPod(store, 'shop', 'web-3', [{ ref: NGINX, digest: digest('1') }]);
  await page.click('#pods-refresh');
  await page.waitForSelector('#pods-rows tr[data-pod="shop/web-3"]');
  t.equal(await page.textContent('#pods-status'), '4 pods in 2 namespaces');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  t.equal(await page.evaluate(() => document.activeElement?.classList.contains('used-btn')), true, 'focus back on the button that opened it');
});

t.test('a blocked image pods still run is flagged; drift is shown', async (t) => {
  t.equal(await page.textContent(`${row(BAD)} .badge`), 'blocked');
  t.equal(await page.textContent(`${row(BAD)} .flag-warn`), 'still runs in 1 pod');
  t.match(await page.getAttribute(`${row(BAD)} .flag-warn`, 'title'), /1 pod in 1 namespace still run it/);
  t.equal(await page.textContent(`${row(DRIFTED)} .drifted`), 'upstream tag moved 1h ago');
  t.equal(await page.$(`${row(NGINX)} .drifted`), null, 'only where driftedAt is set');
});

t.test('a live record change keeps the row\'s usage', async (t) => {
  await app.ctx.store.update(NGINX, { state: 'copying', bytesDone: 10, bytesTotal: 100 });
  await page.waitForSelector(`${row(NGINX)}[data-state="copying"]`);
  t.match(await page.textContent(`${row(NGINX)} .used-btn`), /^\d pods · 2 namespaces$/);
  await app.ctx.store.update(NGINX, { state: 'mirrored', bytesDone: 100 });
  await page.waitForSelector(`${row(NGINX)}[data-state="mirrored"]`);
});

t.test('the GC card shows the last run; its dialog lists would-remove, protected with reasons, errors', async (t) => {
  await page.waitForSelector('#gc[data-state="errors"]');
  t.equal(await page.getAttribute('#gc', 'data-dry-run'), 'true');
  t.match(await page.textContent('#gc-when'), /^Last run 1h ago\s*dry run$/);
  const counts = await page.$$eval('#gc .gc-counts div', (ds) => ds.map((d) => `${d.querySelector('dt')?.textContent}=${d.querySelector('dd')?.textContent}`));
  t.same(counts, ['would remove=3', 'protected=1', 'errors=1']);
  await page.click('#gc-open');
  await page.locator('#gc-dialog').waitFor({ state: 'visible' });
  t.match(await page.textContent('#gc-settings'), /GC is off \(gc\.enabled: false\)/);
  t.match(await page.textContent('#gc-body .gc-run'), /Dry run finished 1h ago in 2\.0 s · unused for 720h, kept if run within 168h/);
  t.equal(await page.isVisible('#gc-body .gc-removed li'), false, 'the lists start closed');
  await page.click('#gc-body .gc-removed summary');
  t.match(await page.textContent('#gc-body .gc-removed summary'), /Would remove \(3\)/);
  t.match(await page.textContent('#gc-body .gc-removed li[data-ref="docker.io/library/old-app:1.0"]'), /unused since 40d ago/);
  t.match(await page.textContent('#gc-body .gc-removed li[data-ref="docker.io/library/never-ran:2"]'), /no pod ever ran it/);
  t.match(await page.textContent('#gc-body .gc-removed li[data-kind="superseded"]'), /moving:latest\s*old digest sha256:eeeeeeee\s*unused since 31d ago/, 'an old digest a re-mirror left behind');
  await page.click('#gc-body .gc-protected summary');
  t.match(await page.textContent('#gc-body .gc-protected li'), /shared-base:3.*runs in 2 pods/);
  await page.click('#gc-body .gc-errors summary');
  t.match(await page.textContent('#gc-body .gc-errors li'), /DELETE refused: 405/);
  await page.keyboard.press('Escape');
  await page.locator('#gc-dialog').waitFor({ state: 'hidden' });

  // A new run shows on the next refresh (the page polls; a reconnect refetches at once).
  await writeGcReport(app.ctx.connection, 'ui-use', { ...sampleGcReport(), skipped: 'no synced pod watch: ferry cannot tell what runs', removed: [], protected: [], errors: [] });
  app.ctx.http.server.closeAllConnections();
  await page.waitForSelector('#gc[data-state="skipped"]', { timeout: 15_000 });
  t.match(await page.textContent('#gc-when'), /skipped/);
  await page.click('#gc-open');
  t.match(await page.textContent('#gc-body .gc-skipped'), /Skipped: no synced pod watch/);
  await page.keyboard.press('Escape');
  t.same(pageErrors, [], 'no script errors in the page');
});

t.test('without a cluster view: one note in the header, no per-row noise; no GC run yet', async (t) => {
  const other = await open(bare);
  t.teardown(() => other.close());
  await other.waitForSelector('#used-note:not([hidden])');
  t.equal(await other.textContent('#used-note'), 'no cluster view');
  t.match(await other.getAttribute('#used-note', 'title'), /ferry watches no pods/);
  const used = await other.$$eval('#rows td.used', (tds) => tds.map((td) => td.textContent));
  t.same(used, Array(5).fill('—'), 'every row says "—", none says more');
  t.equal(await other.$('#rows .flag-warn'), null, 'no blocked-in-use flag without a cluster view');
  await other.waitForSelector('#gc[data-state="none"]');
  t.equal(await other.textContent('#gc-when'), 'No run yet · off (gc.enabled: false)');
  t.equal(await other.isDisabled('#gc-open'), true, 'no details to open');
  t.same(pageErrors, [], 'no script errors in the page');
});
