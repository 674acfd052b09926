/**
 * ferry on a Redis Cluster: the `redis+cluster://` URL (pure parsing, masking,
 * the hash-tag rule at config load), then the real thing: three
 * redis-server masters, `ferry all` on them, images admitted, copied,
 * listed and streamed, every key in the one `{ferry}` slot.
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { isFerryError } from '../../src/errors.js';
import { InUseStore, type PodImage } from '../../src/in-use/index.js';
import { clusterOptions, connectRedis, decodeEvent, describeRedisUrl, ImageStore, parseClusterUrl, redactRedisUrl } from '../../src/queue/index.js';
import { cleanEnv, runFerry, startFerry } from '../cli/support/ferry-process.js';
import { SseClient } from '../dashboard/support/sse.js';
import { postJson } from '../support/https.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { startRegistry } from '../support/registry.js';

t.test('redis+cluster URLs: seed nodes, credentials and TLS are read; the password is never shown', async (t) => {
  const url = 'rediss+cluster://ops:s3cr%40t@10.0.0.1:7000,10.0.0.2:7001,[fd00::3]:7002';
  t.same(parseClusterUrl(url), {
    seeds: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: 'fd00::3', port: 7002 },
    ],
    username: 'ops',
    password: 's3cr@t',
    tls: true,
  });
  t.same(parseClusterUrl('redis+cluster://:pw@a,b:7001'), { seeds: [{ host: 'a', port: 6379 }, { host: 'b', port: 7001 }], password: 'pw', tls: false }, 'password only; port 6379 by default');
  const { options } = clusterOptions(url, { connectionName: 'ferry-main' });
  t.match(options.redisOptions, { maxRetriesPerRequest: null, username: 'ops', password: 's3cr@t', tls: {}, connectionName: 'ferry-main' }, 'BullMQ reads maxRetriesPerRequest: null from redisOptions');
  t.equal(redactRedisUrl(url), 'rediss+cluster://ops:***@10.0.0.1:7000,10.0.0.2:7001,[fd00::3]:7002');
  t.equal(redactRedisUrl('redis+cluster://:p@ss@a:1,b:2'), 'redis+cluster://:***@a:1,b:2', 'an unencoded @ in the password stays masked');
  t.equal(describeRedisUrl(url), 'Redis Cluster over TLS as ops, seed nodes 10.0.0.1:7000, 10.0.0.2:7001, [fd00::3]:7002 (the others are discovered)');
  t.notMatch(describeRedisUrl(url), /s3cr/);
  for (const [bad, why] of [
    ['redis+cluster://', /names no seed node/],
    ['redis+cluster://a:7000/2', /only database 0/],
    ['redis+cluster://a:port', /not a host:port seed node/],
  ] as const) {
    const e = (() => {
      try {
        parseClusterUrl(bad);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    t.ok(isFerryError(e) && e.code === 'FERRY_ERR_CONFIG_REDIS_URL', `${bad}: typed error`);
    t.match((e as Error).message, why);
    t.match((e as { hint?: string }).hint, /redis\+cluster:\/\/node1:6379,node2:6379/);
  }
});

t.test('a cluster URL needs a hash-tagged queue.prefix: refused at config load with the fix', async (t) => {
  const refusal = (queue: Record<string, string>) => {
    try {
      resolveConfig({ queue });
      return undefined;
    } catch (e) {
      return e as { code: string; message: string };
    }
  };
  const e = refusal({ redisUrl: 'redis+cluster://a:7000,b:7001' });
  t.equal(e?.code, 'FERRY_ERR_CONFIG_INVALID');
  t.match(e?.message, /queue\.prefix: "ferry" has no \{hash tag\}.*set queue\.prefix: "\{ferry\}"/);
  t.match(refusal({ redisUrl: 'rediss+cluster://a:7000', prefix: 'acme.prod' })?.message, /set queue\.prefix: "\{acme\.prod\}"/);
  t.equal(refusal({ redisUrl: 'redis+cluster://a:7000', prefix: '{ferry}' }), undefined, '{ferry} is accepted');
  t.equal(refusal({ redisUrl: 'redis+cluster://a:7000', prefix: 'prod-{ferry}' }), undefined, 'a tag inside the prefix counts');
  t.equal(refusal({ redisUrl: 'redis://a:6379', prefix: '{ferry}' }), undefined, 'a hash tag is fine on a single Redis too');
  t.match(refusal({ redisUrl: 'redis://a:6379', prefix: 'a{}b' })?.message, /queue\.prefix: must match pattern/, 'an empty tag is not a tag');
});

t.test('on a real 3-master Redis Cluster', async (t) => {
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.stop());

  t.test('check-config refuses a prefix without a hash tag, naming the fix', async (t) => {
    const env = cleanEnv({ FERRY_QUEUE_REDIS_URL: cluster.url });
    const refused = await runFerry(['check-config'], env);
    t.equal(refused.code, 2);
    t.match(refused.stderr, /FERRY_ERR_CONFIG_INVALID|invalid configuration/);
    t.match(refused.stderr, /set queue\.prefix: "\{ferry\}"/);
    const ok = await runFerry(['check-config'], { ...env, FERRY_QUEUE_PREFIX: '{ferry}' });
    t.equal(ok.code, 0, ok.stderr);
    t.match(JSON.parse(ok.stdout).queue, { redisUrl: cluster.url, prefix: '{ferry}' });
  });

  t.test('without the hash tag the cluster itself refuses ferry\'s atomic writes (why the check exists)', async (t) => {
    const conn = connectRedis(cluster.url);
    t.teardown(() => conn.disconnect());
    const store = new ImageStore(conn, 'ferry');
    await t.rejects(store.enqueue('example.com/a:1', { mirrorRef: 'm/a:1', maxAttempts: 1, source: 'api' }), /CROSSSLOT/);
  });

  // The in-use scripts declare one routing key (keys.live): with none, ioredis sent them to a random node
  // and two masters in three refused them ("non local key").
  t.test('the in-use index (pods -> images) writes and reads on the cluster', async (t) => {
    const conn = connectRedis(cluster.url);
    t.teardown(() => conn.disconnect());
    const inUse = new InUseStore(conn, '{ferry}');
    const pods = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const image = (pod: string): PodImage => ({ namespace: 'shop', pod, container: 'app', list: 'containers', node: null, image: 'nginx:1.27', ref: 'docker.io/library/nginx:1.27', digest: null, rewritten: false });
    const failed: string[] = [];
    for (const pod of pods) await inUse.setPod('shop', pod, [image(pod)]).catch((e: Error) => failed.push(`${pod}: ${e.message}`));
    t.same(failed, [], 'every pod written');
    t.equal((await inUse.podsOf('docker.io/library/nginx:1.27')).length, pods.length, 'every pod found by its image');
    const beats = await Promise.all([1, 2, 3, 4, 5, 6].map(() => inUse.heartbeat(10_000).then(String, (e: Error) => e.message)));
    t.same(beats.filter((b) => b !== 'false' && b !== 'true'), [], 'every heartbeat is taken');
  });

  t.test('ferry all: admitted images are copied, listed, streamed; every key in the {ferry} slot', async (t) => {
    const upstream = await startRegistry();
    t.teardown(() => upstream.stop());
    const mirror = await startRegistry();
    t.teardown(() => mirror.stop());
    const layout = mkdtempSync(join(tmpdir(), 'ferry-cluster-img-'));
    const refs: string[] = [];
    const digests = new Map<string, string>();
    for (const name of ['api', 'web', 'cron']) {
      const image = buildImage(layout, { tag: name, layerSizes: [16 * 1024, 4 * 1024] });
      const ref = `${upstream.host}/shop/${name}:v1`;
      await pushImage(layout, name, ref);
      refs.push(ref);
      digests.set(ref, image.digest);
    }

    const state = mkdtempSync(join(tmpdir(), 'ferry-cluster-state-'));
    const ferry = startFerry(
      ['all'],
      cleanEnv({
        FERRY_QUEUE_REDIS_URL: cluster.url,
        FERRY_QUEUE_PREFIX: '{ferry}',
        FERRY_MIRROR_REGISTRY: mirror.host,
        FERRY_STATE_DIR: state,
        FERRY_IMPORT_DIR: join(state, 'images'),
        FERRY_WEBHOOK_PORT: '0',
        FERRY_WEBHOOK_HOST: '127.0.0.1',
        FERRY_DASHBOARD_PORT: '0',
        FERRY_REWRITE_MODE: 'always',
        FERRY_LOG_LEVEL: 'info',
      }),
    );
    t.teardown(async () => {
      if (ferry.child.exitCode === null) ferry.child.kill('SIGKILL');
    });
    const up = await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"');
    t.equal(up.redis, cluster.url, 'the cluster URL is what ferry says it uses');
    t.notOk(ferry.logs.some((l) => /started a local redis-server/.test(l.msg)), 'no local redis-server: the cluster is used');

    // Pub/sub through the cluster, seen twice: by a client of our own, and by ferry's record feed (the dashboard's stream).
    const sub = connectRedis(cluster.url);
    t.teardown(() => sub.disconnect());
    const mirroredEvents = new Map<string, Record<string, any>>();
    const allMirrored = new Promise<void>((resolve) =>
      sub.on('message', (_c: string, m: string) => {
        const ev = decodeEvent(m);
        if (ev?.type === 'state' && ev.record.state === 'mirrored') mirroredEvents.set(ev.ref, ev.record);
        if (mirroredEvents.size === refs.length) resolve();
      }),
    );
    await sub.subscribe('{ferry}:events');
    const sse = await SseClient.open(`${up.dashboard}/api/events`);
    t.teardown(() => sse.close());
    await sse.wait((f) => f.event === 'hello', 'hello');

    const review = JSON.parse(readFileSync(new URL('../fixtures/admission-review.json', import.meta.url), 'utf8'));
    review.request.object.spec.initContainers = [];
    review.request.object.spec.containers = refs.map((image, i) => ({ name: `c${i}`, image }));
    const res = await postJson(up.webhook, review, readFileSync(up.webhookCA));
    t.equal(res.status, 200);
    t.equal(res.body.response.allowed, true);

    await allMirrored;
    for (const ref of refs) {
      const rec = await sse.state(ref, 'mirrored', 30_000);
      t.equal(rec.digest, digests.get(ref), `${ref}: mirrored event on the dashboard stream`);
      t.equal(mirroredEvents.get(ref)?.digest, digests.get(ref), `${ref}: mirrored event on the channel`);
      t.equal((await inspectRaw(rec.mirrorRef))?.digest, digests.get(ref), `${ref}: the mirror serves the upstream digest`);
    }
    const listed = (await (await fetch(`${up.dashboard}/api/images?limit=50`)).json()) as { total: number; items: { ref: string; state: string }[] };
    t.same(
      listed.items.map((i) => [i.ref, i.state]).sort(),
      refs.map((r) => [r, 'mirrored']).sort(),
      'the dashboard API lists every image as mirrored',
    );

    // Every key ferry and BullMQ wrote hashes to the one {ferry} slot: the sum over the three masters equals that slot's count.
    const slot = await cluster.cli(['cluster', 'keyslot', '{ferry}']);
    let total = 0;
    let inSlot = 0;
    for (const port of cluster.ports) {
      total += Number(await cluster.cli(['dbsize'], port));
      inSlot += Number(await cluster.cli(['cluster', 'countkeysinslot', slot], port));
    }
    t.ok(total > refs.length, `ferry wrote keys (${total})`);
    t.equal(inSlot, total, 'all of them in the {ferry} slot');

    t.same(
      ferry.logs.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
      'no error logged by any role (webhook, worker, dashboard, watch, import) on the cluster',
    );
    t.comment(ferry.logs.filter((l) => l.level === 40).map((l) => l.msg).join('\n'));
    t.equal(await ferry.stop(), 0, 'clean exit on SIGTERM');
  });
});
