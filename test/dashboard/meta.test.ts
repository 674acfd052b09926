/**
 * GET /api/meta serves the lists the list route takes, and the page uses
 * those (not copies): its filter buttons and sort headers are exactly the
 * server's states and sorts, and a list the server does not send is one
 * the page does not accept from the address bar.
 */
import t, { type Test } from 'tap';
import type { Browser, Page } from 'playwright-core';
import { IMAGE_STATES } from '../../src/queue/index.js';
import { DEFAULT_ORDER, DEFAULT_SORT, SORT_KEYS } from '../../src/dashboard/image-index.js';
import { startRedis } from '../support/redis.js';
import { launchBrowser } from './support/browser.js';
import { startDashboardApp } from './support/context.js';
import { call } from './support/http.js';

const redis = await startRedis();
const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'meta' });
let browser: Browser | undefined;
t.teardown(async () => {
  await browser?.close();
  await app.close();
  await redis.stop();
});

t.test('GET /api/meta: the states, sorts and limits of GET /api/images, as that route applies them', async (t) => {
  const r = await call(app.url, 'GET', '/api/meta');
  t.equal(r.status, 200);
  t.same(r.body, { states: IMAGE_STATES, sorts: SORT_KEYS, defaultSort: DEFAULT_SORT, defaultOrder: DEFAULT_ORDER, limit: { default: 50, max: 500 } });
  const meta = r.body as { sorts: string[]; defaultSort: string; defaultOrder: Record<string, string>; limit: { default: number; max: number } };
  const plain = await call(app.url, 'GET', '/api/images');
  t.match(plain.body, { sort: meta.defaultSort, order: meta.defaultOrder[meta.defaultSort], limit: meta.limit.default });
  for (const sort of meta.sorts) {
    t.equal((await call(app.url, 'GET', `/api/images?sort=${sort}`)).body.order, meta.defaultOrder[sort], `default order of ${sort}`);
  }
  for (const state of r.body.states as string[]) t.equal((await call(app.url, 'GET', `/api/images?state=${state}`)).status, 200, `?state=${state} is taken`);
  t.equal((await call(app.url, 'GET', `/api/images?limit=${meta.limit.max}`)).status, 200);
  t.equal((await call(app.url, 'GET', `/api/images?limit=${meta.limit.max + 1}`)).status, 400);
});

interface OpenPage {
  page: Page;
  /** Every GET /api/images the page made. */
  lists: URL[];
  metaCalls: () => number;
  errors: string[];
}

/** Opens the page (closed with test `t`); `meta` replaces the server's answer to /api/meta. */
async function openPage(t: Test, query: string, meta?: unknown): Promise<OpenPage> {
  browser ??= await launchBrowser();
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let metaCalls = 0;
  await page.route('**/api/meta', async (route) => {
    metaCalls++;
    if (meta === undefined) return route.continue();
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(meta) });
  });
  const lists: URL[] = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/images') lists.push(u);
  });
  await page.goto(`${app.url}/${query}`);
  await page.waitForSelector('#images[aria-busy="false"]');
  return { page, lists, metaCalls: () => metaCalls, errors };
}

t.test("the page's filters and sort options are exactly the server's lists", async (t) => {
  const meta = (await call(app.url, 'GET', '/api/meta')).body as { states: string[]; sorts: string[] };
  const { page, metaCalls, errors } = await openPage(t, '');
  t.equal(metaCalls(), 1, 'the page asked the server for its lists, once');
  const filters = await page.$$eval('.counter', (bs) => bs.map((b) => (b as HTMLElement).dataset.state ?? null));
  t.equal(filters[0], '', 'the first filter is "All images"');
  t.same([...filters.slice(1)].sort(), [...meta.states].sort(), 'one filter button per state, no more');
  const counts = await page.$$eval('[data-count]', (els) => els.map((e) => (e as HTMLElement).dataset.count));
  t.same([...counts].sort(), ['total', ...meta.states].sort(), 'one counter per state');
  const sorts = await page.$$eval('.sort', (bs) => bs.map((b) => (b as HTMLElement).dataset.sort ?? null));
  t.same([...sorts].sort(), [...meta.sorts].sort(), 'one sortable header per sort key, no more');
  t.same(errors, [], 'no script errors');
});

t.test('the page takes the states and sorts from the server, not from a copy', async (t) => {
  const real = await openPage(t, '?state=error&sort=ref');
  const asked = real.lists[0]!;
  t.equal(asked.searchParams.get('state'), 'error');
  t.equal(asked.searchParams.get('sort'), 'ref');
  t.equal(asked.searchParams.get('order'), 'asc', "the server's default order for ref");
  t.equal(await real.page.getAttribute('.counter[data-state="error"]', 'aria-pressed'), 'true');
  t.equal(await real.page.getAttribute('th:has([data-sort="ref"])', 'aria-sort'), 'ascending');

  // A server that knows neither "error" nor "ref" (and whose default order for updatedAt is asc): the page follows it.
  const meta = { states: IMAGE_STATES.filter((s) => s !== 'error'), sorts: SORT_KEYS.filter((s) => s !== 'ref'), defaultSort: 'updatedAt', defaultOrder: { updatedAt: 'asc', state: 'asc' }, limit: { default: 50, max: 500 } };
  const other = await openPage(t, '?state=error&sort=ref', meta);
  const plain = other.lists[0]!;
  t.equal(plain.searchParams.get('state'), null, 'a state the server did not list is not a filter');
  t.equal(plain.searchParams.get('sort'), 'updatedAt', 'a sort the server did not list falls back to its default sort');
  t.equal(plain.searchParams.get('order'), 'asc', "with the server's default order");
  t.equal(await other.page.getAttribute('.counter[data-state=""]', 'aria-pressed'), 'true');
  t.same([...real.errors, ...other.errors], [], 'no script errors');
});
