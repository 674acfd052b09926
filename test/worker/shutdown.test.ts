import t from 'tap';
import { inspectRaw } from '../support/images.js';
import { startEnv, harness } from './support/env.js';
import { startThrottleProxy } from '../support/throttle-proxy.js';

const env = await startEnv();
t.teardown(() => env.stop());

/** An image served through a bandwidth-limited proxy so its copy lasts ~`seconds`. */
async function slowImage(t: { teardown(fn: () => unknown): void }, repo: string, seconds: number) {
  const bytes = 4 * 1024 * 1024;
  const { ref: direct, image } = await env.push(repo, '1', [bytes]);
  const proxy = await startThrottleProxy(env.upstream.host, bytes / seconds);
  t.teardown(() => proxy.close());
  return { ref: direct.replace(env.upstream.host, proxy.host), image };
}

t.test('close() waits for the active copy to finish', async (t) => {
  const h = await harness(env, 'drain');
  t.teardown(() => h.close());
  const { ref, image } = await slowImage(t, 'test/drain', 1);
  const pool = h.pool();
  await h.enqueue(ref);
  await h.events.wait((e) => e.type === 'progress' && e.ref === ref && e.bytesDone > 0, 'progress');
  await pool.close();
  // the copy was mid-way when close() was called: mirrored now means close() waited for it
  t.match(await h.store.get(ref), { state: 'mirrored', digest: image.digest });
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, image.digest);
  t.equal((await h.queue.getJobs(['completed'])).length, 1);
});

t.test('past closeTimeoutMs, close() hands the copy back to the queue; another worker finishes it', async (t) => {
  const h = await harness(env, 'handback');
  t.teardown(() => h.close());
  const { ref, image } = await slowImage(t, 'test/handback', 3);
  const first = h.pool({ closeTimeoutMs: 200 });
  await h.enqueue(ref);
  await h.events.wait((e) => e.type === 'progress' && e.ref === ref && e.bytesDone > 0, 'progress');
  await first.close();
  // still queued (not mirrored): close() gave the copy back instead of waiting out its 3 s
  t.match(await h.store.get(ref), { state: 'queued', nextAttemptAt: null });
  const waiting = await h.queue.getJobs(['waiting']);
  t.equal(waiting.length, 1, 'job is waiting again, not failed or delayed');
  t.equal(waiting[0]!.attemptsMade, 0, 'the interrupted attempt is not counted');
  h.events.seen.length = 0;
  h.pool();
  const rec = await h.events.state(ref, 'mirrored', 20_000);
  t.match(rec, { digest: image.digest, attempts: 1 });
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, image.digest);
});
