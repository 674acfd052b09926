/**
 * What a watch poll of an unchanged selection costs upstream (issue 14: "an
 * unchanged re-sync costs one request"), per strategy, counted at a
 * request-log proxy in front of a real docker-registry with token auth
 * (anonymous pull tokens, as public images on Docker Hub get them), and at a
 * second one in front of the mirror. `digest` follows one tag: one manifest
 * HEAD. The other strategies choose among tags, so they must list them: one
 * `tags/list` page (up to 1,000 tags) plus the HEAD of the selected tag;
 * `newest` answers `created` from the watch's answer cache (no config blob
 * fetched again), and with `cacheBy: digest` HEADs every allowed tag once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { WatchConfig } from '../../src/config/index.js';
import { startTokenServer } from '../registry/support/tokenserver.js';
import { buildImage, pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { startRequestLogProxy } from '../support/request-log-proxy.js';
import { cleanupLayouts, harness } from './support/env.js';
import { polled } from './support/e2e.js';

const creds = { username: 'alice', password: 's3cret-Pa55' };
const ts = await startTokenServer({ users: { [creds.username]: creds.password } });
const [redis, upstream, mirror] = await Promise.all([
  startRedis(),
  startRegistry({ token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } }),
  startRegistry(),
]);
const [upstreamLog, mirrorLog] = await Promise.all([startRequestLogProxy(upstream.host), startRequestLogProxy(mirror.host)]);
t.teardown(async () => {
  await Promise.all([upstreamLog.close(), mirrorLog.close()]);
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop(), ts.stop()]);
  cleanupLayouts();
});
// One test at a time: they share the two request logs.
t.jobs = 1;

const layouts = mkdtempSync(join(tmpdir(), 'ferry-watch-cost-'));
t.teardown(() => rmSync(layouts, { recursive: true, force: true }));
let n = 0;

/** Pushes a fresh image as `repo:tag` straight to the upstream (with the pushing user's credentials); its digest. */
async function push(repo: string, tag: string, created: string): Promise<string> {
  const layout = join(layouts, `l${n++}`);
  const img = buildImage(layout, { tag, layerSizes: [1024], created });
  await pushImage(layout, tag, `${upstream.host}/${repo}:${tag}`, creds);
  return img.digest;
}

const YEARLY = '0 0 1 1 *';

interface Case {
  name: string;
  repo: string;
  watch: Omit<WatchConfig, 'image' | 'schedule' | 'id'>;
  /** The tags pushed (oldest first); the last one is what the strategy selects. */
  tags: string[];
  expected: Record<string, number>;
}

const cases: Case[] = [
  { name: 'digest (one tag followed)', repo: 'cost/digest', watch: { strategy: 'digest', tag: 'stable', keep: 2 }, tags: ['stable'], expected: { 'HEAD manifests/<tag>': 1 } },
  {
    name: 'semver (must list tags)',
    repo: 'cost/semver',
    watch: { strategy: 'semver', constraint: '^1' },
    tags: ['1.0.0', '1.1.0'],
    expected: { 'GET tags/list': 1, 'HEAD manifests/<tag>': 1 },
  },
  {
    name: 'alphabetical (must list tags)',
    repo: 'cost/alpha',
    watch: { strategy: 'alphabetical' },
    tags: ['2024-01-01', '2024-02-01'],
    expected: { 'GET tags/list': 1, 'HEAD manifests/<tag>': 1 },
  },
  {
    name: 'newest, cacheBy tag (created from the answer cache)',
    repo: 'cost/newest',
    watch: { strategy: 'newest' },
    tags: ['a', 'b', 'c'],
    expected: { 'GET tags/list': 1, 'HEAD manifests/<tag>': 1 },
  },
  {
    name: 'newest, cacheBy digest (a HEAD per allowed tag, none twice)',
    repo: 'cost/newest-digest',
    watch: { strategy: 'newest', cacheBy: 'digest' },
    tags: ['a', 'b', 'c'],
    expected: { 'GET tags/list': 1, 'HEAD manifests/<tag>': 3 },
  },
];

for (const c of cases) {
  t.test(`an unchanged poll, ${c.name}: ${JSON.stringify(c.expected)} upstream, nothing else, nothing in the mirror`, async (t) => {
    const digests: string[] = [];
    for (const [i, tag] of c.tags.entries()) digests.push(await push(c.repo, tag, new Date(Date.UTC(2026, 0, 1 + i)).toISOString()));
    const id = c.repo.replace('/', '-');
    const watch: WatchConfig = { id, image: `${upstreamLog.host}/${c.repo}`, schedule: YEARLY, ...c.watch };
    const h = await harness({ redisUrl: redis.url, mirror: { ...mirror, host: mirrorLog.host }, prefix: id, watch: [watch] });
    t.teardown(() => h.close());
    const tag = c.tags.at(-1)!;
    const digest = digests.at(-1)!;
    const ref = `${upstreamLog.host}/${c.repo}:${tag}`;

    const first = polled(h, id);
    await h.watcher.start();
    t.match(await first, { result: 'initial', selected: { tag, digest } });
    await h.mirrored(ref, digest);

    upstreamLog.reset();
    mirrorLog.reset();
    const tokens = ts.requests.length;
    const report = await h.watcher.poll(id, 'api');
    t.match(report, { result: 'unchanged', selected: { tag, digest }, configFetches: 0 });
    t.same(upstreamLog.kinds(), c.expected, 'upstream requests of the poll');
    t.ok(upstreamLog.requests.every((r) => r.status === 200), 'no 401 replay: the cached token was accepted');
    t.equal(ts.requests.length, tokens, 'no token request: the one cached since the first poll is reused');
    t.same(mirrorLog.requests, [], 'the mirror is not asked');
  });
}
