/**
 * The argocd-image-updater tag rules through real watches: a handful of tags
 * pushed to docker-registry, three `semver` watches polled by a Watcher
 * (redis-server, a mirror registry and a copy worker), each selecting what
 * test/watch/tag-selection.test.ts says, at the digest pushed under that tag.
 */
import t from 'tap';
import type { PollReport } from '../../src/watch/index.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, nextEvent, push } from './support/env.js';

t.test('semver watches with and without a constraint select as AIU would', async (t) => {
  const redis = await startRedis();
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  t.teardown(async () => {
    await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
    cleanupLayouts();
  });
  const repo = 'demo/tags';
  const digests = new Map<string, string>();
  // 1.2, 1.2.0 and v1.2.0 are one version (distinct images); 9.0.0.1 is not semver.
  for (const tag of ['1.2', '1.2.0', 'v1.2.0', '1.3.0', '1.3.1-rc.1', '2.0.0-beta', '9.0.0.1', 'latest']) {
    digests.set(tag, (await push(upstream, repo, tag)).image.digest);
  }
  const image = `${upstream.host}/${repo}`;
  const yearly = '0 0 1 1 *';
  const h = await harness({
    redisUrl: redis.url,
    mirror,
    prefix: 'tagsel',
    watch: [
      { id: 'exact', image, strategy: 'semver', constraint: '1.2.0', schedule: yearly },
      { id: 'highest', image, strategy: 'semver', schedule: yearly },
      { id: 'pre', image, strategy: 'semver', constraint: '>=1.3.0-0', allowTags: 'regexp:^\\d', ignoreTags: ['*-beta'], schedule: yearly },
    ],
  });
  t.teardown(() => h.close());
  const first = (id: string) => nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === id);
  const reports = Promise.all(['exact', 'highest', 'pre'].map(first));
  await h.watcher.start();
  const [exact, highest, pre] = await reports;

  const want = { exact: 'v1.2.0', highest: '1.3.0', pre: '1.3.1-rc.1' };
  for (const [name, r] of Object.entries({ exact, highest, pre })) {
    const tag = want[name as keyof typeof want];
    t.match(r, { result: 'initial', selected: { tag, digest: digests.get(tag) } }, `${name}: ${tag} (${r!.reason})`);
  }
  // The selection is what gets mirrored.
  const record = await h.mirrored(`${image}:1.3.0`, digests.get('1.3.0'));
  t.equal(record.digest, digests.get('1.3.0'), 'the highest release landed in the mirror');
});
