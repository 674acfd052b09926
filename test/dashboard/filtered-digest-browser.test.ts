/**
 * A platform-filtered index pushed under a new digest (`copy.platformMode:
 * strip`) on the page, in headless Chromium (playwright-core + Debian's
 * chromium): the Digest column shows the mirror's and the upstream's digest,
 * each copyable, the signature as a flag and the referrers copied. Records are
 * written through the store (as the worker does); every wait is on DOM state.
 */
import t from 'tap';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ImageRecord } from '../../src/queue/index.js';
import { startRedis } from '../support/redis.js';
import { launchBrowser } from './support/browser.js';
import { startDashboardApp } from './support/context.js';

const UP = 'sha256:' + 'a'.repeat(64);
const NEW = 'sha256:' + 'b'.repeat(64);
const PLAIN_DIGEST = 'sha256:' + 'c'.repeat(64);
const FILTERED = 'docker.io/library/nginx:1.27';
const PLAIN = 'docker.io/library/redis:7';
const UNSIGNED = 'ghcr.io/acme/api:1';

const redis = await startRedis();
const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'ui-filtered', configure: (c) => (c.mirror.registry = 'mirror.local:5000') });
let browser: Browser | undefined;
let context: BrowserContext | undefined;
t.teardown(async () => {
  await context?.close();
  await browser?.close();
  await app.close();
  await redis.stop();
});

async function putRecord(ref: string, patch: Partial<ImageRecord>): Promise<void> {
  await app.ctx.store.update(ref, { state: 'mirrored', mirrorRef: app.ctx.mirrorRefOf(ref), attempts: 1, maxAttempts: 3, bytesTotal: 1_000_000, mirroredAt: new Date().toISOString(), ...patch }, { upsert: true });
}
await putRecord(FILTERED, { digest: NEW, sourceDigest: UP, signature: 'verified', referrers: 3 });
await putRecord(PLAIN, { digest: PLAIN_DIGEST, sourceDigest: PLAIN_DIGEST, signature: null, referrers: 0 });
await putRecord(UNSIGNED, { digest: PLAIN_DIGEST, sourceDigest: null, signature: 'unsigned' });
await app.dashboard.live.reload();

browser = await launchBrowser();
// 127.0.0.1 is a secure context: the page copies with the Clipboard API, which these permissions let the test read back.
context = await browser.newContext({ viewport: { width: 1440, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
const page: Page = await context.newPage();
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
await page.goto(app.url);
await page.waitForSelector('#images[aria-busy="false"]');
const row = (ref: string) => `tr[data-ref="${ref}"]`;

t.test('the API answers the supply-chain fields', async (t) => {
  const res = await fetch(`${app.url}/api/images/${encodeURIComponent(FILTERED)}`);
  t.equal(res.status, 200);
  t.match(await res.json(), { ref: FILTERED, digest: NEW, sourceDigest: UP, signature: 'verified', referrers: 3 });
  const list = (await (await fetch(`${app.url}/api/images?q=${encodeURIComponent(UP.slice(7, 20))}`)).json()) as { items: ImageRecord[] };
  t.same(list.items.map((r) => r.ref), [FILTERED], 'the upstream digest finds it too');
});

t.test('a filtered index shows the mirror digest and the upstream digest, both copyable', async (t) => {
  const cell = `${row(FILTERED)} td.digests`;
  t.equal(await page.getAttribute(cell, 'data-filtered'), 'true');
  t.same(
    await page.$$eval(`${cell} .digest-line`, (ls) => ls.map((l) => l.textContent)),
    [`mirror${NEW.slice(0, 15)}`, `upstream${UP.slice(0, 15)}`],
    'short digests, each named',
  );
  t.match(await page.getAttribute(`${cell} [data-focus="digest-mirror"]`, 'title'), NEW, 'the full mirror digest on hover');
  t.match(await page.getAttribute(`${cell} [data-focus="digest-upstream"]`, 'title'), UP, 'the full upstream digest on hover');
  for (const [which, digest] of [['upstream', UP], ['mirror', NEW]] as const) {
    const button = `${cell} [data-focus="digest-${which}"]`;
    await page.click(button);
    await page.waitForSelector(`${button}.copied`);
    t.equal(await page.evaluate(() => navigator.clipboard.readText()), digest, `the ${which} digest is copied`);
  }
  t.equal(await page.textContent(`${cell} [data-signature]`), 'signed');
  t.match(await page.getAttribute(`${cell} [data-signature]`, 'class'), /\bflag-ok\b/);
  t.equal(await page.textContent(`${cell} [data-referrers]`), '3 referrers');
});

t.test('one digest when nothing was filtered; flags only for what is known', async (t) => {
  for (const ref of [PLAIN, UNSIGNED]) {
    t.equal(await page.$$eval(`${row(ref)} td.digests .digest`, (bs) => bs.length), 1, `${ref}: one digest`);
    t.equal(await page.getAttribute(`${row(ref)} td.digests`, 'data-filtered'), null);
  }
  t.equal(await page.$$eval(`${row(PLAIN)} td.digests .flag`, (fs) => fs.length), 0, 'no verify rule, no referrers: no flags');
  t.equal(await page.textContent(`${row(UNSIGNED)} [data-signature="unsigned"]`), 'unsigned');
  t.match(await page.getAttribute(`${row(UNSIGNED)} [data-signature]`, 'class'), /\bflag-warn\b/);
});

t.test('a live update re-renders the flags and digests', async (t) => {
  await putRecord(PLAIN, { digest: NEW, sourceDigest: PLAIN_DIGEST, signature: 'unverified', referrers: 1 });
  await page.waitForSelector(`${row(PLAIN)} td.digests[data-filtered="true"] [data-signature="unverified"]`);
  t.equal(await page.textContent(`${row(PLAIN)} [data-signature]`), 'unverified');
  t.equal(await page.textContent(`${row(PLAIN)} [data-referrers]`), '1 referrer');
  t.same(pageErrors, [], 'no page errors');
});
