// The trust model (SPEC "Trust model") through real HTTPS AdmissionReviews:
// what a pod author can and cannot walk around. The mirror (127.0.0.1:5999)
// has no listener and no worker runs, so nothing named here is ever fetched.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { createWebhookServer } from '../../src/webhook/index.js';
import { servingCert } from '../../src/webhook/certs.js';
import { startRedis } from '../support/redis.js';
import { postJson } from '../support/https.js';
import { M, bootWebhook, fixture, opsOf, patched, withPod } from './support/boot.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const boot = (t: Test, raw: object = {}) => bootWebhook(t, redis.url, raw);
const BLOCK = [{ pattern: 'docker.io/library/busybox:*', reason: 'CVE-2026-0001: use distroless' }];

/** Marks `ref` mirrored in Redis and waits until the webhook's view has it. */
async function mirror(ctx: Awaited<ReturnType<typeof boot>>['ctx'], ref: string) {
  const seen = new Promise<void>((resolve) =>
    ctx.records().on('event', (ev) => {
      if (ev.type === 'state' && ev.ref === ref && ev.record.state === 'mirrored') resolve();
    }),
  );
  await ctx.store.update(ref, { state: 'mirrored', digest: 'sha256:' + 'e'.repeat(64), mirroredAt: new Date().toISOString() }, { upsert: true });
  await seen;
}

/** `kubectl set image pod/checkout proxy=<image>`: an UPDATE whose oldObject is the pod as stored. */
function setImage(container: string, image: string, prepare: (r: any) => void = () => {}) {
  return withPod((r) => {
    prepare(r);
    r.request.operation = 'UPDATE';
    r.request.options = { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' };
    r.request.oldObject = structuredClone(r.request.object);
    for (const list of ['containers', 'initContainers']) {
      for (const c of r.request.object.spec[list]) if (c.name === container) c.image = image;
    }
  });
}

t.test('ferry.io/skip cannot walk around enforce or block rules', async (t) => {
  const { ctx, send } = await boot(t, { rewrite: { mode: 'enforce' }, block: BLOCK });
  for (const [how, mark] of [
    ['annotation', (r: any) => (r.request.object.metadata.annotations['ferry.io/skip'] = 'true')],
    ['label', (r: any) => (r.request.object.metadata.labels['ferry.io/skip'] = 'true')],
  ] as const) {
    const res = await send(withPod(mark));
    const r = res.body.response;
    t.equal(r.allowed, false, `skip ${how}: still denied`);
    t.match(r.status.message, /busybox:1\.36.*CVE-2026-0001/, `skip ${how}: the block rule holds`);
    t.match(r.status.message, /nginx:1\.27.*mode enforce admits only mirrored images/, `skip ${how}: enforce holds`);
    t.match(r.warnings, [/ferry\.io\/skip is ignored/], `skip ${how}: the author is told why`);
  }
  // Once every image is mirrored (busybox swapped out), a skipped pod is still rewritten to the mirror.
  for (const ref of ['ghcr.io/acme/checkout-migrate:2.4.1', 'docker.io/library/alpine:3.20', 'ghcr.io/acme/checkout:2.4.1', 'docker.io/library/nginx:1.27', 'quay.io/prometheus/statsd-exporter:v0.26.0']) {
    await mirror(ctx, ref);
  }
  const review = withPod((r) => {
    r.request.object.metadata.labels['ferry.io/skip'] = 'true';
    r.request.object.spec.initContainers[1].image = 'alpine:3.20';
  });
  const ok = await send(review);
  t.equal(ok.body.response.allowed, true);
  t.same(
    patched(review, ok.body.response).spec.containers.map((c: any) => c.image),
    [`${M}/ghcr.io/acme/checkout:2.4.1`, `${M}/docker.io/library/nginx:1.27`, `${M}/quay.io/prometheus/statsd-exporter:v0.26.0`],
    'enforce rewrites a skipped pod too',
  );
});

t.test('below enforce, skip opts out of rewriting only: blocked images are still denied', async (t) => {
  const { send } = await boot(t, { rewrite: { mode: 'always' }, block: BLOCK });
  const skipped = await send(withPod((r) => (r.request.object.metadata.labels['ferry.io/skip'] = 'true')));
  t.equal(skipped.body.response.allowed, false);
  t.match(skipped.body.response.status.message, /busybox:1\.36.*CVE-2026-0001/);
  const clean = withPod((r) => {
    r.request.object.metadata.labels['ferry.io/skip'] = 'true';
    r.request.object.spec.initContainers.pop();
  });
  const res = await send(clean);
  t.same(res.body.response, { uid: fixture.request.uid, allowed: true }, 'no rewrite, no patch');
});

t.test("a namespace annotation cannot weaken the operator's enforce", async (t) => {
  const tls = await servingCert('', '', mkdtempSync(join(tmpdir(), 'ferry-cert-')));
  const config = resolveConfig({ mirror: { registry: M }, rewrite: { mode: 'mirrored', namespaces: { shop: 'enforce' } } }).config;
  const app = createWebhookServer({
    config: () => config,
    logger: createLogger('silent'),
    // What the namespace informer would hold for `kubectl annotate ns shop ferry.io/mode=off ferry.io/skip=true`.
    namespaces: { meta: () => ({ annotations: { 'ferry.io/mode': 'off', 'ferry.io/skip': 'true' }, labels: {} }), source: 'informer', close: async () => {} },
    lookup: () => undefined,
    enqueue: () => {},
    tls,
    readiness: { checks: new Map() },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const res = await postJson(`${address}/mutate`, fixture, tls.cert);
  t.equal(res.body.response.allowed, false, 'still enforced');
  t.match(res.body.response.status.message, /mode enforce admits only mirrored images/);
  const other = await postJson(`${address}/mutate`, withPod((r) => (r.request.namespace = 'lab')), tls.cert);
  t.equal(other.body.response.allowed, true, 'where the operator did not say enforce, the namespace default applies (off)');
  t.same(opsOf(other.body.response), []);
});

t.test('pod UPDATE: a changed image is judged; pull policy is never patched', async (t) => {
  t.test('blocked images are denied', async (t) => {
    const { send } = await boot(t, { rewrite: { mode: 'mirrored' }, block: BLOCK });
    const res = await send(setImage('proxy', 'busybox:1.37', (r) => r.request.object.spec.initContainers.pop()));
    t.equal(res.body.response.allowed, false);
    t.match(res.body.response.status.message, /busybox:1\.37.*"proxy".*CVE-2026-0001/);
  });
  t.test('enforce denies an image that is not mirrored', async (t) => {
    const { ctx, send } = await boot(t, { rewrite: { mode: 'enforce' } });
    const res = await send(setImage('proxy', 'nginx:1.28'));
    t.equal(res.body.response.allowed, false);
    t.match(res.body.response.status.message, /nginx:1\.28.*"proxy".*not mirrored yet/);
    t.notMatch(res.body.response.status.message, /checkout:2\.4\.1/, 'images the UPDATE did not change are not judged again');
    await ctx.producer.flush();
    t.match(await ctx.store.get('docker.io/library/nginx:1.28'), { state: 'queued' }, 'the new image is queued');
  });
  t.test('always rewrites the changed image, with no imagePullPolicy op', async (t) => {
    const { send } = await boot(t, { rewrite: { mode: 'always' }, pullPolicy: { default: 'Always', force: true } });
    const review = setImage('proxy', 'nginx:1.28');
    const res = await send(review);
    t.equal(res.body.response.allowed, true);
    const ops = opsOf(res.body.response);
    t.same(ops.filter((o) => o.path.startsWith('/spec')), [{ op: 'replace', path: '/spec/containers/1/image', value: `${M}/docker.io/library/nginx:1.28` }]);
    t.notOk(ops.some((o) => /imagePullPolicy/.test(o.path)), 'imagePullPolicy is immutable on update');
    t.same(JSON.parse(patched(review, res.body.response).metadata.annotations['ferry.io/original-images']), { proxy: 'nginx:1.28' });
  });
  t.test('an image already in the mirror is left alone; an old blocked image the UPDATE keeps is not re-judged', async (t) => {
    const { send } = await boot(t, { rewrite: { mode: 'enforce' }, block: BLOCK });
    const review = setImage('proxy', `${M}/docker.io/library/nginx:1.27`, (r) => {
      for (const c of [...r.request.object.spec.containers, ...r.request.object.spec.initContainers]) {
        if (!c.image.startsWith('busybox')) c.image = `${M}/x/${c.name}:1`;
      }
    });
    const res = await send(review);
    t.equal(res.body.response.allowed, true);
    t.same(opsOf(res.body.response), []);
  });
});

t.test('image volumes are rewritten, blocked, enqueued, enforced and recorded', async (t) => {
  const volumes = (r: any, ...refs: string[]) => {
    r.request.object.spec.volumes = [{ name: 'config', configMap: { name: 'x' } }, ...refs.map((reference, i) => ({ name: `model-${i}`, image: { reference, pullPolicy: 'Always' } }))];
  };
  t.test('always', async (t) => {
    const { ctx, send } = await boot(t, { rewrite: { mode: 'always' } });
    const review = withPod((r) => volumes(r, 'ghcr.io/acme/weights:7'));
    const res = await send(review);
    const pod = patched(review, res.body.response);
    t.same(pod.spec.volumes[1].image, { reference: `${M}/ghcr.io/acme/weights:7`, pullPolicy: 'IfNotPresent' });
    t.same(pod.spec.volumes[0], { name: 'config', configMap: { name: 'x' } }, 'other volumes untouched');
    t.equal(JSON.parse(pod.metadata.annotations['ferry.io/original-images'])['volume/model-0'], 'ghcr.io/acme/weights:7');
    await ctx.producer.flush();
    t.match(await ctx.store.get('ghcr.io/acme/weights:7'), { state: 'queued', source: 'admission' });
  });
  t.test('enforce and block', async (t) => {
    const { send } = await boot(t, { rewrite: { mode: 'enforce' }, block: BLOCK });
    const res = await send(withPod((r) => volumes(r, 'ghcr.io/acme/weights:7', 'busybox:1.36')));
    t.equal(res.body.response.allowed, false);
    t.match(res.body.response.status.message, /ghcr\.io\/acme\/weights:7.*image volume "model-0".*not mirrored/);
    t.match(res.body.response.status.message, /busybox:1\.36.*image volume "model-1".*CVE-2026-0001/);
  });
});

t.test('static-pod mirrors are never patched or denied; warnings say what would have applied', async (t) => {
  const { send, validate } = await boot(t, { rewrite: { mode: 'enforce' }, block: BLOCK });
  const review = withPod((r) => {
    r.request.object.metadata.annotations['kubernetes.io/config.mirror'] = 'a1b2c3';
    r.request.object.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'n1', controller: true }];
  });
  const res = await send(review);
  const r = res.body.response;
  t.equal(r.allowed, true);
  t.equal(r.patch, undefined, 'no patch');
  t.match(r.warnings, [/static pod mirror/]);
  t.ok(r.warnings.some((w: string) => /would deny: image "busybox:1\.36".*CVE-2026-0001/.test(w)), 'names the block that would have applied');
  t.ok(r.warnings.some((w: string) => /would deny: image "nginx:1\.27".*not mirrored/.test(w)), 'and the enforce denial');
  const v = await validate(review);
  t.same(v.body.response, { uid: fixture.request.uid, allowed: true }, 'the validating webhook lets it through too');
});

t.test('POST /validate: the same policy after every mutation, deny-only', async (t) => {
  const { ctx, validate } = await boot(t, { rewrite: { mode: 'enforce' }, block: BLOCK });
  await mirror(ctx, 'docker.io/istio/proxyv2:1.24.0');
  const mirroredPod = (r: any) => {
    for (const c of [...r.request.object.spec.containers, ...r.request.object.spec.initContainers]) c.image = `${M}/x/${c.name}:1`;
  };
  const clean = await validate(withPod(mirroredPod));
  t.same(clean.body.response, { uid: fixture.request.uid, allowed: true }, 'a pod of mirror references passes, untouched');

  // A sidecar injector running after ferry's mutating webhook added an upstream image.
  const injected = await validate(
    withPod((r) => {
      mirroredPod(r);
      r.request.object.spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' });
      r.request.object.spec.initContainers.push({ name: 'istio-init', image: 'busybox:1.36' });
    }),
  );
  const r = injected.body.response;
  t.equal(r.allowed, false);
  t.match(r.status.message, /istio\/proxyv2:1\.24\.0.*"istio-proxy".*does not come from the mirror/);
  t.match(r.status.message, /busybox:1\.36.*"istio-init".*CVE-2026-0001/);
  t.equal(r.patch, undefined, 'a validating webhook never patches');

  const update = await validate(setImage('proxy', 'nginx:1.28', mirroredPod));
  t.equal(update.body.response.allowed, false, 'UPDATE is validated too');
  t.match(update.body.response.status.message, /nginx:1\.28.*not mirrored/);
});
