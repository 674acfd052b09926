/**
 * A registry whose pull allowance is used up (Docker Hub's, here ferry's own
 * count through `registries.<host>.pullLimit`): the copy is held until the
 * window allows another pull, and that hold is not a failed attempt, so even
 * `maxAttempts: 1` ends `mirrored`, not `error`.
 */
import t from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { harness, jobDone, startEnv, type Env } from './support/env.js';

let env: Env;
t.before(async () => {
  env = await startEnv();
});
t.teardown(() => env.stop());

t.test('pull budget used up: the copy waits for the window without spending an attempt', async (t) => {
  const h = await harness(env, 'pulls', { maxAttempts: 1 });
  t.teardown(() => h.close());
  h.config.registries[env.upstream.host] = { pullLimit: { count: 1, windowSeconds: 2 } };
  const a = await env.push('test/a', '1', [1024]);
  const b = await env.push('test/b', '1', [1024]);
  // holds longer than maxRetryAfterMs are not waited out in-process: handed to the queue (default 10 s; 0.5 s here)
  const engine = new RegistryEngine({ config: h.config, retries: 0, maxRetryAfterMs: 500 });
  t.teardown(() => engine.close());
  const pool = h.pool({ engine });
  const first = jobDone(pool, (j) => j.data.ref === a.ref);
  await h.enqueue(a.ref);
  await h.events.state(a.ref, 'mirrored');
  await first;

  const second = jobDone(pool, (j) => j.data.ref === b.ref, 30_000);
  await h.enqueue(b.ref);
  const rec = await h.events.state(b.ref, 'mirrored', 30_000);
  await second;
  const states = h.events.states(b.ref);
  t.same(states.map((r) => r.state), ['queued', 'copying', 'retrying', 'copying', 'mirrored'], 'held once, then copied');
  const held = states[2]!;
  t.match(held.lastError, /PULL_LIMIT|pull limit/i, 'the record says why it waits');
  t.equal(held.attempts, 0, 'the hold is not counted as an attempt');
  const waitMs = Date.parse(held.nextAttemptAt!) - Date.parse(held.updatedAt);
  t.ok(waitMs > 0 && waitMs <= 2500, `held until the window allows a pull (${waitMs} ms)`);
  t.ok(Date.parse(states[3]!.updatedAt) >= Date.parse(held.nextAttemptAt!) - 5, 'not tried again before then');
  t.match(rec, { state: 'mirrored', digest: b.image.digest, attempts: 1, maxAttempts: 1, lastError: null });
});
