/**
 * The worker role delivers notifications while `notify:` has receivers and
 * follows hot reloads of the list: copies emit `mirrored`, the role's
 * consumer posts them (real redis-server, registries, copy workers).
 */
import type { Redis } from 'ioredis';
import t from 'tap';
import type { FerryConfig } from '../../src/config/index.js';
import type { ReadinessCheck } from '../../src/observability/index.js';
import { connectRedis } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import type { Role, RoleContext } from '../../src/runtime/index.js';
import { startWorker } from '../../src/worker/index.js';
import { harness, silent, startEnv } from '../worker/support/env.js';
import { Receiver } from './support/receiver.js';

const env = await startEnv();
t.teardown(() => env.stop());

t.test('notify: follows reloads in the worker role', async (t) => {
  const rx = new Receiver();
  await rx.listen();
  t.teardown(() => rx.stop());
  const h = await harness(env, 'notify-role');
  t.teardown(() => h.close());
  let cfg: FerryConfig = { ...h.config, notify: [] };
  const listeners: ((next: FerryConfig, prev: FerryConfig) => void)[] = [];
  const conns: Redis[] = [];
  t.teardown(() => conns.forEach((c) => c.disconnect()));
  const engine = new RegistryEngine({ config: cfg });
  t.teardown(() => engine.close());
  const reload = (next: FerryConfig) => {
    const prev = cfg;
    cfg = next;
    for (const l of listeners) l(next, prev);
  };
  const ctx = {
    config: () => cfg,
    onConfigChange: (l: (next: FerryConfig, prev: FerryConfig) => void) => void listeners.push(l),
    logger: silent,
    redis: () => {
      const c = connectRedis(env.redis.url);
      conns.push(c);
      return c;
    },
    connection: h.conn,
    store: h.store,
    producer: h.producer,
    mirrorRefOf: (ref: string) => env.mirrorRefOf(ref),
    registry: () => engine,
    kube: async () => undefined,
    addReadiness: (_name: string, _check: ReadinessCheck) => {},
  } as unknown as RoleContext;
  const role = (await startWorker(ctx)) as Role & { notifyConsumer(): unknown };
  t.teardown(() => role.close());
  t.equal(role.notifyConsumer(), undefined, 'no receivers: no consumer');

  const a = await env.push('notify/a', '1', [1024]);
  await h.enqueue(a.ref);
  await h.events.state(a.ref, 'mirrored');

  reload({ ...cfg, notify: [{ url: rx.url, events: ['mirrored'] }] });
  const b = await env.push('notify/b', '1', [1024]);
  await h.enqueue(b.ref);
  const got = await rx.next((r) => r.json?.subject === b.ref);
  t.match(got.json, { type: 'io.ferry.mirrored', data: { ref: b.ref, newDigest: b.image.digest, oldDigest: null } });
  t.same(
    rx.requests.map((r) => r.json?.subject),
    [b.ref],
    'the copy made while nobody was configured emitted nothing',
  );

  reload({ ...cfg, notify: [] });
  await role.close();
  t.equal(role.notifyConsumer(), undefined, 'receivers removed: consumer stopped');
});
