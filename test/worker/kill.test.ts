import t from 'tap';
import { spawn } from 'node:child_process';
import { inspectRaw } from '../support/images.js';
import { startEnv, harness, jobDone } from './support/env.js';
import { startThrottleProxy } from '../support/throttle-proxy.js';
import { nodeEntry } from '../support/process.js';

const env = await startEnv();
t.teardown(() => env.stop());

t.test('a worker killed with SIGKILL mid-copy loses no job: another pool finishes it', async (t) => {
  const h = await harness(env, 'kill');
  t.teardown(() => h.close());
  const { ref: direct, image } = await env.push('test/big', '1', [6 * 1024 * 1024, 2 * 1024 * 1024]);
  // 8 MiB through a 4 MiB/s proxy: the copy lasts ~2 s, so the kill lands mid-copy.
  const proxy = await startThrottleProxy(env.upstream.host, 4 * 1024 * 1024);
  t.teardown(() => proxy.close());
  const ref = direct.replace(env.upstream.host, proxy.host);

  const child = spawn(process.execPath, nodeEntry(new URL('./support/worker-process.ts', import.meta.url)), {
    env: { ...process.env, FERRY_TEST_POOL: JSON.stringify({ redisUrl: env.redis.url, config: h.config, workerOpts: { lockDuration: 1500, stalledInterval: 500 } }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });

  await h.enqueue(ref);
  await h.events.state(ref, 'copying');
  await h.events.wait((e) => e.type === 'progress' && e.ref === ref && e.bytesDone > 0, 'first progress from the child');
  const killed = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await killed;
  t.equal(child.signalCode, 'SIGKILL');
  t.equal(await inspectRaw(env.mirrorRefOf(ref)), undefined, 'killed before the manifest was pushed: no partial image');
  t.equal((await h.queue.getJobCounts('active')).active, 1, 'the job is still held by the dead worker');

  // A second pool (in this process) recovers the job once the dead worker's lock expires.
  h.events.seen.length = 0;
  const done = jobDone(h.pool({ workerOpts: { lockDuration: 1500, stalledInterval: 500 } }), () => true, 30_000);
  const rec = await h.events.state(ref, 'mirrored', 30_000);
  await done;
  t.equal(rec.digest, image.digest);
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, image.digest, 'mirror digest matches upstream');
  const jobs = await h.queue.getJobs(['completed']);
  t.equal(jobs.length, 1, 'one job, completed once');
  t.match(await h.queue.getJobCounts('active', 'waiting', 'delayed', 'failed'), { active: 0, waiting: 0, delayed: 0, failed: 0 });
});
