import t from 'tap';
import { inspectRaw } from '../support/images.js';
import { startThrottleProxy } from '../support/throttle-proxy.js';
import { startEnv, harness } from './support/env.js';

const env = await startEnv();
t.teardown(() => env.stop());

t.test('a tag that moves while its copy runs is copied again once that copy ends', async (t) => {
  const h = await harness(env, 'again');
  t.teardown(() => h.close());
  const bytes = 4 * 1024 * 1024;
  const { ref: direct, image: old } = await env.push('test/moving', '1', [bytes]);
  const proxy = await startThrottleProxy(env.upstream.host, bytes / 1.5);
  t.teardown(() => proxy.close());
  const ref = direct.replace(env.upstream.host, proxy.host);
  h.pool();
  await h.enqueue(ref);
  await h.events.wait((e) => e.type === 'progress' && e.ref === ref && e.bytesDone > 0, 'the first copy under way');

  // The tag moves upstream mid-copy, and the watch (or an operator) asks for a fresh copy.
  const { image: moved } = await env.push('test/moving', '1', [4096]);
  t.not(moved.digest, old.digest);
  await h.enqueue(ref, { force: true });

  const final = await h.events.wait(
    (e) => e.type === 'state' && e.ref === ref && e.record.state === 'mirrored' && e.record.digest === moved.digest,
    'mirrored at the moved digest',
    30_000,
  );
  t.equal(final.ev.type === 'state' && final.ev.record.digest, moved.digest);
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, moved.digest, 'the mirror serves the new content');
  t.equal(await h.conn.hlen(h.store.k.again), 0, 'the mark was taken');
  t.equal((await h.queue.getJobCounts('completed')).completed, 2, 'exactly one extra copy');
});
