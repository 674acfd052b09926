import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { decodeEvent } from '../../src/queue/index.js';
import { startRegistry } from '../support/registry.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { postJson } from '../support/https.js';
import { nodeEntry } from '../support/process.js';

const main = nodeEntry(new URL('../../src/cli/main.ts', import.meta.url));

t.test('ferry all on embedded defaults: local redis + mirror, admission queues, worker mirrors, SIGTERM stops children', async (t) => {
  const upstream = await startRegistry();
  t.teardown(() => upstream.stop());
  const layout = mkdtempSync(join(tmpdir(), 'ferry-all-img-'));
  const image = buildImage(layout, { tag: 'v1', layerSizes: [64 * 1024, 32 * 1024] });
  await pushImage(layout, 'v1', `${upstream.host}/demo/app:v1`);

  const state = mkdtempSync(join(tmpdir(), 'ferry-all-state-'));
  const child = spawn(process.execPath, [...main, 'all'], {
    env: {
      ...process.env,
      FERRY_STATE_DIR: state,
      FERRY_WEBHOOK_PORT: '0',
      FERRY_WEBHOOK_HOST: '127.0.0.1',
      FERRY_DASHBOARD_PORT: '0',
      FERRY_IMPORT_DIR: join(state, 'images'),
      FERRY_REWRITE_MODE: 'always',
      FERRY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const logs: any[] = [];
  const up = await new Promise<any>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ferry all exited ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      try {
        const j = JSON.parse(line);
        logs.push(j);
        if (typeof j.msg === 'string' && j.msg.startsWith('ferry is up')) resolve(j);
      } catch {
        /* not a log line */
      }
    });
  });
  t.match(up, { roles: ['webhook', 'worker', 'dashboard', 'watch', 'import'], webhook: /^https:\/\/127\.0\.0\.1:\d+\/mutate$/, dashboard: /^http:\/\/127\.0\.0\.1:\d+$/, redis: /^redis:\/\/127\.0\.0\.1:\d+$/ });
  t.ok(logs.some((l) => /started a local redis-server/.test(l.msg)), 'says it started redis');
  t.ok(logs.some((l) => /started a local docker-registry/.test(l.msg)), 'says it started a registry');

  const health = await fetch(`${up.dashboard}/readyz`);
  t.equal(health.status, 200);

  const sub = new Redis(up.redis);
  sub.on('error', () => {}); // ferry's own redis goes away with it at the end
  t.teardown(() => sub.disconnect());
  await sub.subscribe('ferry:events');
  const ref = `${upstream.host}/demo/app:v1`;
  const mirrored = new Promise<any>((resolve) =>
    sub.on('message', (_c: string, m: string) => {
      const ev = decodeEvent(m);
      if (ev?.type === 'state' && ev.ref === ref && ev.record.state === 'mirrored') resolve(ev.record);
    }),
  );

  const review = JSON.parse(readFileSync(new URL('../fixtures/admission-review.json', import.meta.url), 'utf8'));
  review.request.object.spec.initContainers = [];
  review.request.object.spec.containers = [{ name: 'app', image: ref }];
  const res = await postJson(up.webhook, review, readFileSync(up.webhookCA));
  t.equal(res.status, 200);
  t.equal(res.body.response.allowed, true);
  const ops = JSON.parse(Buffer.from(res.body.response.patch, 'base64').toString());
  const rewritten = ops.find((o: any) => o.path === '/spec/containers/0/image')?.value;
  t.equal(rewritten, `${up.mirror}/127.0.0.1_${upstream.host.split(':')[1]}/demo/app:v1`);

  const record = await mirrored;
  t.equal(record.digest, image.digest, 'record carries the upstream digest');
  const landed = await inspectRaw(rewritten);
  t.equal(landed?.digest, image.digest, 'the mirror serves the same manifest digest as upstream');

  const api = await fetch(`${up.dashboard}/api/images/${encodeURIComponent(ref)}`);
  t.equal(api.status, 200);
  t.match(await api.json(), { ref, state: 'mirrored', digest: image.digest });

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
  t.ok(existsSync(join(state, 'redis')), 'redis state dir made');
  const stillUp = await fetch(`http://${up.mirror}/v2/`).then(
    () => true,
    () => false,
  );
  t.notOk(stillUp, 'the local registry was stopped with ferry');
});

t.test('an invalid config is refused at start, listing every problem', async (t) => {
  const child = spawn(process.execPath, [...main, 'webhook'], {
    env: { ...process.env, FERRY_REWRITE_MODE: 'sometimes', FERRY_QUEUE_CONCURRENCY: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.equal(code, 2);
  t.match(stderr, /invalid configuration/);
  t.match(stderr, /rewrite\.mode: must be one of off, mirrored, always, enforce/);
  t.match(stderr, /queue\.concurrency/);
});

t.test('SIGTERM exits cleanly even while Redis is unreachable', async (t) => {
  const { startRedis } = await import('../support/redis.js');
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const child = spawn(process.execPath, [...main, 'webhook'], {
    env: { ...process.env, FERRY_QUEUE_REDIS_URL: redis.url, FERRY_WEBHOOK_PORT: '0', FERRY_WEBHOOK_HOST: '127.0.0.1', FERRY_REWRITE_MODE: 'always' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const up = await new Promise<any>((resolve) =>
    lines.on('line', (line) => {
      try {
        const j = JSON.parse(line);
        if (typeof j.msg === 'string' && j.msg.startsWith('ferry is up')) resolve(j);
      } catch {
        /* not a log line */
      }
    }),
  );
  await redis.kill();
  // An admission while Redis is gone leaves images in the enqueue buffer.
  const review = JSON.parse(readFileSync(new URL('../fixtures/admission-review.json', import.meta.url), 'utf8'));
  const res = await postJson(up.webhook, review, readFileSync(up.webhookCA));
  t.equal(res.body.response.allowed, true);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0 instead of waiting for Redis forever');
});

t.test('Ctrl-C (SIGINT to the whole process group) mid-copy drains cleanly: local services outlive ferry\'s own shutdown', async (t) => {
  const { startThrottleProxy } = await import('../support/throttle-proxy.js');
  const upstream = await startRegistry();
  t.teardown(() => upstream.stop());
  const layout = mkdtempSync(join(tmpdir(), 'ferry-all-sigint-img-'));
  buildImage(layout, { tag: 'v1', layerSizes: [3 * 1024 * 1024] });
  await pushImage(layout, 'v1', `${upstream.host}/demo/slow:v1`);
  const proxy = await startThrottleProxy(upstream.host, 1.5 * 1024 * 1024);
  t.teardown(() => proxy.close());
  const ref = `${proxy.host}/demo/slow:v1`;

  const state = mkdtempSync(join(tmpdir(), 'ferry-all-sigint-'));
  const child = spawn(process.execPath, [...main, 'all'], {
    env: { ...process.env, FERRY_STATE_DIR: state, FERRY_WEBHOOK_PORT: '0', FERRY_WEBHOOK_HOST: '127.0.0.1', FERRY_DASHBOARD_PORT: '0', FERRY_IMPORT_DIR: join(state, 'images') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own group, like a shell job
  });
  t.teardown(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const logs: string[] = [];
  const up = await new Promise<any>((resolve) =>
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const j = JSON.parse(line);
        if (typeof j.msg === 'string' && j.msg.startsWith('ferry is up')) resolve(j);
      } catch {
        /* not a log line */
      }
    }),
  );
  const sub = new Redis(up.redis);
  sub.on('error', () => {});
  t.teardown(() => sub.disconnect());
  await sub.subscribe('ferry:events');
  const copying = new Promise<void>((resolve) =>
    sub.on('message', (_c: string, m: string) => {
      const ev = decodeEvent(m);
      if (ev?.type === 'progress' && ev.ref === ref && ev.bytesDone > 0) resolve();
    }),
  );
  const added = await fetch(`${up.dashboard}/api/images`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ref }) });
  t.equal(added.status, 202);
  await copying;

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  process.kill(-child.pid!, 'SIGINT');
  t.equal(await exited, 0, 'graceful exit after the active copy, not the 45 s deadline');
  t.notOk(logs.some((l) => /ECONNREFUSED|shutdown took longer|ignored cancellation/.test(l)), 'nothing lost its Redis mid-shutdown');
  t.ok(logs.some((l) => /"msg":"stopped"/.test(l)));
  const registryUp = await fetch(`http://${up.mirror}/v2/`).then(
    () => true,
    () => false,
  );
  t.notOk(registryUp, 'ferry stopped its local registry on the way out');
});
