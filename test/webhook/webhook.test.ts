import t, { type Test } from 'tap';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { createContext } from '../../src/runtime/index.js';
import { createLogger } from '../../src/observability/index.js';
import { startWebhook } from '../../src/webhook/index.js';
import { startRedis } from '../support/redis.js';
import { postJson } from '../support/https.js';
import { M, bootWebhook, fixture, patched, withPod } from './support/boot.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const boot = (t: Test, raw: object = {}) => bootWebhook(t, redis.url, raw);

function applied(review: any, response: any) {
  t.equal(response.patchType, 'JSONPatch');
  return patched(review, response);
}

t.test('always: every image rewritten, original images recorded, pull policy enforced, copies queued', async (t) => {
  const { ctx, send } = await boot(t, { rewrite: { mode: 'always' } });
  const res = await send(fixture);
  t.equal(res.status, 200);
  t.match(res.contentType, /^application\/json/);
  t.equal(res.body.apiVersion, 'admission.k8s.io/v1');
  t.equal(res.body.kind, 'AdmissionReview');
  t.equal(res.body.response.uid, fixture.request.uid);
  t.equal(res.body.response.allowed, true);
  const pod = applied(fixture, res.body.response);
  t.same(
    pod.spec.containers.map((c: any) => c.image),
    [`${M}/ghcr.io/acme/checkout:2.4.1`, `${M}/docker.io/library/nginx:1.27`, `${M}/quay.io/prometheus/statsd-exporter:v0.26.0`],
  );
  t.same(pod.spec.initContainers.map((c: any) => c.image), [`${M}/ghcr.io/acme/checkout-migrate:2.4.1`, `${M}/docker.io/library/busybox:1.36`]);
  t.same(pod.spec.containers.map((c: any) => c.imagePullPolicy), ['IfNotPresent', 'IfNotPresent', 'IfNotPresent']);
  t.same(JSON.parse(pod.metadata.annotations['ferry.io/original-images']), {
    app: 'ghcr.io/acme/checkout:2.4.1',
    proxy: 'nginx:1.27',
    metrics: 'quay.io/prometheus/statsd-exporter:v0.26.0',
    migrate: 'ghcr.io/acme/checkout-migrate:2.4.1',
    'wait-db': 'busybox:1.36',
  });
  t.equal(pod.metadata.annotations['prometheus.io/port'], '9090', 'other annotations kept');
  t.same(pod.spec.containers[0].resources, fixture.request.object.spec.containers[0].resources, 'nothing else touched');
  await ctx.producer.flush();
  t.equal((await ctx.store.counts()).queued, 5);
  t.match(await ctx.store.get('docker.io/library/nginx:1.27'), { state: 'queued', mirrorRef: `${M}/docker.io/library/nginx:1.27`, source: 'admission' });

  // Reinvocation with the patched pod: nothing left to change.
  const again = await send(withPod((r) => (r.request.object = pod)));
  t.equal(again.body.response.allowed, true);
  t.equal(again.body.response.patch, undefined, 'idempotent under reinvocation');
});

t.test('pod without metadata.annotations gets the annotation map added', async (t) => {
  const { send } = await boot(t, { rewrite: { mode: 'always' } });
  const review = withPod((r) => delete r.request.object.metadata.annotations);
  const res = await send(review);
  const ops = JSON.parse(Buffer.from(res.body.response.patch, 'base64').toString());
  t.ok(ops.some((o: any) => o.op === 'add' && o.path === '/metadata/annotations'), 'adds the whole map');
  const pod = applied(review, res.body.response);
  t.ok(pod.metadata.annotations['ferry.io/original-images']);
});

t.test('mirrored: rewrites only what the state view says is mirrored, updated live from Redis', async (t) => {
  const { ctx, view, send } = await boot(t);
  const first = await send(fixture);
  const pod1 = applied(fixture, first.body.response);
  t.equal(pod1.spec.containers[1].image, 'nginx:1.27', 'not mirrored yet: unchanged');
  t.equal(pod1.spec.containers[2].imagePullPolicy, 'IfNotPresent', 'pull policy still enforced');
  const changed = new Promise<void>((resolve) =>
    ctx.records().on('event', (ev) => {
      if (ev.type === 'state' && ev.ref === 'docker.io/library/nginx:1.27' && ev.record.state === 'mirrored') resolve();
    }),
  );
  await ctx.store.update('docker.io/library/nginx:1.27', { state: 'mirrored', digest: 'sha256:' + 'e'.repeat(64), mirroredAt: new Date().toISOString() }, { upsert: true });
  await changed;
  const second = await send(fixture);
  const pod2 = applied(fixture, second.body.response);
  t.equal(pod2.spec.containers[1].image, `${M}/docker.io/library/nginx:1.27`);
  t.equal(pod2.spec.containers[0].image, 'ghcr.io/acme/checkout:2.4.1');
  t.same(JSON.parse(pod2.metadata.annotations['ferry.io/original-images']), { proxy: 'nginx:1.27' });
});

t.test('enforce and blocked images are denied with a message naming each image', async (t) => {
  const { ctx, send } = await boot(t, { rewrite: { mode: 'enforce' }, block: [{ pattern: 'docker.io/library/busybox:*', reason: 'CVE-2026-0001: use distroless' }] });
  const res = await send(fixture);
  const r = res.body.response;
  t.equal(r.allowed, false);
  t.equal(r.status.code, 403);
  t.match(r.status.message, /busybox:1\.36.*"wait-db".*CVE-2026-0001/);
  t.match(r.status.message, /nginx:1\.27.*"proxy".*not mirrored yet/);
  t.match(r.status.message, /ghcr\.io\/acme\/checkout:2\.4\.1/);
  t.equal(r.patch, undefined);
  await ctx.producer.flush();
  t.equal((await ctx.store.counts()).queued, 4, 'denied pods still prefetch their (unblocked) images');
});

t.test('dryRun: same answer, nothing enqueued', async (t) => {
  const { ctx, send } = await boot(t, { rewrite: { mode: 'always' } });
  const res = await send(withPod((r) => (r.request.dryRun = true)));
  t.equal(res.body.response.allowed, true);
  t.ok(res.body.response.patch, 'same patch as a real request');
  await ctx.producer.flush();
  t.same(await ctx.store.refs(), []);
  t.equal(ctx.producer.depth, 0);
});

t.test('other kinds and operations are allowed untouched; ephemeral containers are rewritten on UPDATE', async (t) => {
  const { send } = await boot(t, { rewrite: { mode: 'always' } });
  const update = await send(
    withPod((r) => {
      r.request.operation = 'UPDATE';
      r.request.oldObject = structuredClone(r.request.object);
      r.request.object.metadata.labels.release = 'canary';
    }),
  );
  t.same(update.body.response, { uid: fixture.request.uid, allowed: true }, 'an UPDATE that changes no image is left alone');
  const deployment = await send(withPod((r) => (r.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' })));
  t.same(deployment.body.response, { uid: fixture.request.uid, allowed: true });
  const noObject = await send(withPod((r) => (r.request.operation = 'DELETE') && delete r.request.object));
  t.same(noObject.body.response, { uid: fixture.request.uid, allowed: true });

  const eph = withPod((r) => {
    r.request.operation = 'UPDATE';
    r.request.subResource = 'ephemeralcontainers';
    r.request.oldObject = structuredClone(r.request.object);
    r.request.oldObject.spec.ephemeralContainers = [{ name: 'debug-old', image: 'busybox:1.35' }];
    r.request.object.spec.ephemeralContainers = [
      { name: 'debug-old', image: 'busybox:1.35' },
      { name: 'debugger', image: 'alpine:3.20', imagePullPolicy: 'IfNotPresent' },
    ];
  });
  const res = await send(eph);
  const pod = applied(eph, res.body.response);
  t.same(pod.spec.ephemeralContainers.map((c: any) => c.image), ['busybox:1.35', `${M}/docker.io/library/alpine:3.20`]);
  t.equal(pod.spec.containers[0].image, 'ghcr.io/acme/checkout:2.4.1', 'regular containers untouched on the subresource');
  t.equal(pod.metadata.annotations['ferry.io/original-images'], undefined, 'metadata is not writable through the subresource');
});

t.test('bad requests get 400/413 with a clear message and the server keeps answering', async (t) => {
  const { send } = await boot(t, { rewrite: { mode: 'always' } });
  const malformed = await send('{"apiVersion": "admission.k8s.io/v1", "kind": ');
  t.equal(malformed.status, 400);
  const v1beta1 = await send(withPod((r) => (r.apiVersion = 'admission.k8s.io/v1beta1')));
  t.equal(v1beta1.status, 400);
  t.match(v1beta1.body, { code: 'FERRY_ERR_WEBHOOK_BAD_REVIEW', message: /apiVersion must be "admission.k8s.io\/v1"/ });
  const noUid = await send(withPod((r) => delete r.request.uid));
  t.equal(noUid.status, 400);
  t.match(noUid.body.message, /request.uid/);
  const notObject = await send('[1,2,3]');
  t.equal(notObject.status, 400);
  const huge = await send(withPod((r) => (r.request.object.metadata.annotations.big = 'x'.repeat(300 * 1024))));
  t.equal(huge.status, 413);
  t.match(huge.body.message, /bodyLimit/);
  const ok = await send(fixture);
  t.equal(ok.status, 200, 'still serving');
});

t.test('the webhook keeps answering while Redis is down and enqueues once it is back', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.stop());
  const loaded = resolveConfig({
    mirror: { registry: M },
    rewrite: { mode: 'always' },
    queue: { redisUrl: own.url, prefix: 'down' },
    webhook: { port: 0, host: '127.0.0.1' },
  });
  const ctx = createContext(loaded, createLogger('silent'), {});
  const role = await startWebhook(ctx);
  t.teardown(async () => {
    await role.close();
    await ctx.close();
  });
  const ca = readFileSync(role.caFile!);
  await own.kill();
  const res = await postJson(`${role.url}/mutate`, fixture, ca);
  t.equal(res.status, 200);
  t.equal(res.body.response.allowed, true);
  t.ok(res.body.response.patch, 'still rewrites');
  t.equal(ctx.producer.depth, 5, 'five images buffered');
  await own.start();
  await ctx.producer.flush();
  t.equal(ctx.producer.depth, 0);
  t.equal((await ctx.store.counts()).queued, 5);
});

t.test('internal errors fail open, or closed with webhook.failClosed', async (t) => {
  const { createWebhookServer, configOnlyNamespaces } = await import('../../src/webhook/index.js');
  const { servingCert } = await import('../../src/webhook/certs.js');
  const tls = await servingCert('', '', mkdtempSync(join(tmpdir(), 'ferry-cert-')));
  for (const failClosed of [false, true]) {
    const config = resolveConfig({ mirror: { registry: M }, webhook: { failClosed } }).config;
    const app = createWebhookServer({
      config: () => config,
      logger: createLogger('silent'),
      namespaces: configOnlyNamespaces(),
      lookup: () => {
        throw new Error('state view exploded');
      },
      enqueue: () => {},
      tls,
      readiness: { checks: new Map() },
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await postJson(`${address}/mutate`, fixture, tls.cert);
    t.equal(res.status, 200);
    t.equal(res.body.response.uid, fixture.request.uid);
    t.equal(res.body.response.allowed, !failClosed, `failClosed=${failClosed}`);
    t.equal(res.body.response.patch, undefined);
    await app.close();
  }
});
