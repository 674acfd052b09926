/**
 * `ferry watch` on its own with hooks.secret binds dashboard.host (so a
 * registry in the cluster can deliver notifications through a Service), says
 * in its log what is reachable from where, and still guards every mutating
 * route. dashboard.host is 127.0.0.2 here: a loopback address other than
 * 127.0.0.1, so where it bound is observable without leaving the machine.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { EVENTS_MEDIA_TYPE } from '../../src/watch/index.js';
import { startRedis } from '../support/redis.js';
import { send } from '../support/raw-http.js';
import { nodeEntry } from '../support/process.js';

const main = nodeEntry(new URL('../../src/cli/main.ts', import.meta.url));
const redis = await startRedis();
t.teardown(() => redis.stop());

function startFerry(env: Record<string, string>) {
  const child = spawn(process.execPath, [...main, 'watch'], {
    env: {
      ...process.env,
      FERRY_QUEUE_REDIS_URL: redis.url,
      FERRY_QUEUE_PREFIX: `bind${Math.random().toString(36).slice(2, 8)}`,
      FERRY_DASHBOARD_PORT: '0',
      FERRY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const logs: any[] = [];
  const up = new Promise<any>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ferry watch exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const j = JSON.parse(line);
        logs.push(j);
        if (typeof j.msg === 'string' && j.msg.startsWith('ferry is up')) resolve(j);
      } catch {
        /* not a log line */
      }
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return { up, logs, stop };
}

t.test('watch role + hooks.secret: listens on dashboard.host; the hook takes the secret, the watch API stays loopback-guarded', async (t) => {
  const SECRET = 'bind-test-secret';
  const ferry = startFerry({ FERRY_DASHBOARD_HOST: '127.0.0.2', FERRY_HOOKS_SECRET: SECRET });
  t.teardown(ferry.stop);
  const up = await ferry.up;
  t.match(up.ops, /^http:\/\/127\.0\.0\.2:\d+$/, 'bound to dashboard.host, not 127.0.0.1');
  const line = ferry.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shared HTTP app listens on'));
  t.match(line, { bind: '127.0.0.2', reach: { hook: /hooks\.secret/, changes: /loopback callers only/ } }, 'the log says what is reachable from where');
  const port = new URL(up.ops).port;
  await t.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing on 127.0.0.1');

  const hook = (headers: Record<string, string>) =>
    send(up.ops, 'POST', '/hooks/registry', { headers: { 'content-type': EVENTS_MEDIA_TYPE, ...headers }, body: '{"events":[]}' });
  t.match(await hook({ authorization: `Bearer ${SECRET}`, host: 'ferry.ferry-system.svc:8080' }), { status: 202 }, 'a registry with the secret');
  t.match(await hook({}), { status: 401, body: { code: 'FERRY_ERR_HOOKS_UNAUTHORIZED' } }, 'without it');
  const put = await send(up.ops, 'PUT', '/api/watches/x', {
    headers: { 'content-type': 'application/json', host: 'ferry.ferry-system.svc:8080', authorization: `Bearer ${SECRET}` },
    body: JSON.stringify({ image: 'docker.io/library/nginx', strategy: 'semver', schedule: '0 0 1 1 *' }),
  });
  t.match(put, { status: 403, body: { code: 'FERRY_ERR_DASHBOARD_NO_TOKEN_REMOTE' } }, 'the watch API is not opened by the hook secret');
});

t.test('watch role without hooks.secret or dashboard.token: loopback only, dashboard.host ignored and said so', async (t) => {
  const ferry = startFerry({ FERRY_DASHBOARD_HOST: '127.0.0.2' });
  t.teardown(ferry.stop);
  const up = await ferry.up;
  t.match(up.ops, /^http:\/\/127\.0\.0\.1:\d+$/);
  const line = ferry.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shared HTTP app listens on'));
  t.match(line, { bind: '127.0.0.1', reach: { ignoredHost: /127\.0\.0\.2 is not used: set dashboard\.token \(or hooks\.secret\)/ } });
});
