/**
 * The Nodes panel in headless Chromium (playwright-core + Debian's
 * chromium), fed by node states written through NodeStateStore.publish as
 * each agent writes them: the nodes and their counts, a stale node marked,
 * a failed pre-pull with its code, per-node details kept open across
 * refreshes, text never parsed as HTML, and a node's new state shown
 * without a reload. Every wait is on DOM state. Leaves a screenshot at
 * /tmp/nodes-view.png.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { NodeStateStore } from '../../src/nodes/index.js';
import { startRedis } from '../support/redis.js';
import { launchBrowser } from './support/browser.js';
import { startDashboardApp } from './support/context.js';
import { sampleNodes } from './support/nodes.js';

const redis = await startRedis();
const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'ui-nodes', configure: (c) => (c.mirror.registry = 'mirror.local:5000') });
const empty = await startDashboardApp({ redisUrl: redis.url, prefix: 'ui-nodes-none' });
let browser: Browser | undefined;
t.teardown(async () => {
  await browser?.close();
  await Promise.all([app.close(), empty.close()]);
  await redis.stop();
});

const store = new NodeStateStore(app.ctx.connection, 'ui-nodes');
const nodes = sampleNodes();
for (const n of nodes) await store.publish(n);

browser = await launchBrowser();
const pageErrors: string[] = [];

t.test('the Nodes panel', async (t) => {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1200 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
  await page.goto(app.url);
  await page.waitForSelector('#nodes[aria-busy="false"]');
  const row = (n: string) => `#node-rows tr[data-node="${n}"]`;

  t.same(await page.$$eval('#node-rows tr[data-node]', (rows) => rows.map((r) => (r as HTMLElement).dataset.node)), ['node-a', 'node-b', 'node-c'], 'one row per node, by name');
  t.match(await page.textContent('[data-summary="nodes"]'), '3 nodes');
  t.match(await page.textContent('[data-summary="stale"]'), '1 stale');
  t.match(await page.textContent('[data-summary="images"]'), '4 present · 1 pending · 1 failed');

  t.match(await page.textContent(`${row('node-b')} td:nth-child(2)`), 'containerd 1.7.11-k3s2', 'runtime');
  t.match(await page.textContent(`${row('node-b')} td:nth-child(3)`), 'pulling', 'not ready yet');
  t.match(await page.textContent(`${row('node-b')} td:nth-child(4)`), /tainted.*ferry\.io\/images-not-ready/, 'the startup taint still on');
  t.match(await page.textContent(`${row('node-a')} td:nth-child(4)`), /removed/, 'and removed on the ready node');
  t.equal(await page.getAttribute(`${row('node-b')} [data-prepull]`, 'data-prepull'), '1/3', 'present / total');
  t.match(await page.textContent(`${row('node-b')} td:nth-child(5)`), '1 error');

  t.equal(await page.getAttribute(row('node-c'), 'class'), 'stale', 'the silent node is marked stale');
  t.match(await page.textContent(`${row('node-c')} .node-stale`), 'stale');
  t.equal(await page.$(`${row('node-a')} .node-stale`), null, 'a live node is not');

  await page.click(`${row('node-b')} .node-toggle`);
  await page.waitForSelector('tr[data-detail="node-b"]');
  t.equal(await page.getAttribute(`${row('node-b')} .node-toggle`, 'aria-expanded'), 'true');
  const failed = 'tr[data-detail="node-b"] tr[data-status="error"]';
  t.equal(await page.textContent(`${failed} .err-code`), 'FERRY_ERR_CRI_PULL_FAILED', 'the error code, apart from its message');
  t.match(await page.textContent(`${failed} .node-err-msg`), 'failed to pull: not found');
  t.match(await page.textContent(`${failed} .countdown`), /next try in \d/, 'the next retry counts down');
  t.match(await page.textContent(`${failed} td:first-child .ref`), 'quay.io/acme/<b>ml</b>:latest', 'markup in data is shown as text');
  t.equal(await page.$$eval('#nodes b', (b) => b.length), 0, '…and never parsed as HTML');
  t.match(await page.textContent('tr[data-detail="node-b"] tr[data-status="present"]'), /sha256:a1a1a1a1.*72\.4 MB/, 'a present image: short digest, size');
  t.match(await page.textContent('tr[data-detail="node-b"] tr[data-status="pulling"]'), /ghcr\.io\/acme\/api:2\.4\.1.*named by a workload/, 'where an entry comes from, when not the config');
  t.match(await page.textContent('tr[data-detail="node-b"] tr[data-file="broken.tar"] .err-code'), 'FERRY_ERR_CONTAINERD_BAD_ARCHIVE', 'an import error with its code');

  // node-a's agent finishes something; the panel follows on its refresh, with node-b still open.
  await page.click(`${row('node-a')} .node-toggle`);
  await page.waitForSelector('tr[data-detail="node-a"]');
  await page.screenshot({ path: '/tmp/nodes-view.png', fullPage: true });
  await store.publish({ ...nodes[1]!, seenAt: new Date().toISOString(), ready: true, prepull: nodes[1]!.prepull.map((p) => ({ ...p, status: 'present' as const, digest: p.digest ?? `sha256:${'e'.repeat(64)}` })) });
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.waitForSelector(`${row('node-b')} [data-prepull="3/3"]`, { timeout: 15_000 });
  t.ok(await page.$('tr[data-detail="node-b"]'), 'expanded nodes stay expanded across a refresh');
  t.match(await page.textContent(`${row('node-b')} td:nth-child(3)`), 'ready');
  t.same(pageErrors, [], 'no page errors');
});

t.test('no agent yet: the panel says what to deploy', async (t) => {
  const page = await browser!.newPage();
  await page.goto(empty.url);
  await page.waitForSelector('#nodes[aria-busy="false"]');
  t.match(await page.textContent('#node-rows tr.empty'), /No node agent has reported.*deploy\/components\/agent/);
  t.match(await page.textContent('[data-summary="nodes"]'), '0 nodes');
});
