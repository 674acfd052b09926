/**
 * Faults between the engine and the upstream registry, injected by a real
 * HTTP proxy (support/faultproxy.ts): the engine must retry what is
 * transient, classify what it gives up on, and never commit corrupt data.
 */
import t from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { freePort } from '../support/process.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startFaultProxy, type FaultProxy } from './support/faultproxy.js';
import { buildTestImages, pushTestImages, testConfig, type TestImages } from './support/fixtures.js';

let upstream: TestRegistry;
let mirror: TestRegistry;
let proxy: FaultProxy;
let imgs: TestImages;
let n = 0;

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  proxy = await startFaultProxy(upstream.host);
  imgs = buildTestImages([150_000, 250_000]);
  await pushTestImages(imgs, upstream.host);
});
t.teardown(async () => {
  await proxy?.stop();
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  imgs?.cleanup();
});
t.beforeEach(() => proxy.clear());

const engine = (copy: { timeoutMs?: number } = {}) => new RegistryEngine({ config: testConfig({ copy }), retries: 2, backoffMs: 20 });
const copyV1 = (e: RegistryEngine, signal?: AbortSignal) => e.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/faults/app${++n}:v1`, ...(signal ? { signal } : {}) });
const layer0 = () => new RegExp(`/blobs/${imgs.amd64.layers[0]}$`);

t.test('500 on the manifest GET once: retried, copy succeeds', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: /\/manifests\//, fault: { kind: 'status', status: 500 }, times: 1 });
  const res = await copyV1(e);
  t.equal(res.digest, imgs.amd64.digest);
  t.ok(proxy.log.some((l) => l.endsWith('!status')), 'fault injected');
});

t.test('dropped connection on a blob GET once: retried, copy succeeds', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'drop' }, times: 1 });
  const res = await copyV1(e);
  t.equal(res.digest, imgs.amd64.digest);
  t.equal(res.bytesCopied, imgs.amd64.bytes);
  t.ok(proxy.log.some((l) => l.endsWith('!drop')));
});

t.test('429 with Retry-After: 1 once: waits, then succeeds', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } }, times: 1 });
  const t0 = performance.now();
  const res = await copyV1(e);
  const ms = performance.now() - t0;
  t.equal(res.digest, imgs.amd64.digest);
  t.ok(ms >= 950, `honoured Retry-After (${Math.round(ms)} ms)`);
});

t.test('429 with a long Retry-After: RATE_LIMITED, transient, retryAfterMs exposed, no waiting', async (t) => {
  const e = engine();
  // its own proxy: the 2-minute pause holds every later request to that host (process-wide gate)
  const own = await startFaultProxy(upstream.host);
  t.teardown(async () => {
    await e.close();
    await own.stop();
  });
  own.rules.push({ path: /\/manifests\//, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '120' } } });
  const err = await e.copy({ src: `${own.host}/demo/app:v1`, dst: `${mirror.host}/faults/app${++n}:v1` }).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_RATE_LIMITED');
  t.equal(err.transient, true);
  t.equal(err.details.retryAfterMs, 120_000);
  t.match(err.message, own.host);
  // handed to the queue's backoff instead: one manifest request, no second one after a wait
  t.equal(own.log.filter((l) => /\/manifests\//.test(l)).length, 1, 'did not wait and retry in place');
});

t.test('persistent 500 on a blob: SERVER, transient, nothing pushed', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'status', status: 503 } });
  const err = await copyV1(e).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_SERVER');
  t.equal(err.transient, true);
  t.equal(proxy.log.filter((l) => l.endsWith('!status')).length, 9, '3 transfer attempts x 3 request attempts');
  t.equal(await inspectRaw(`${mirror.host}/faults/app${n}:v1`), undefined);
});

t.test('flipped byte in a blob: DIGEST_MISMATCH, transient, upload aborted, nothing committed', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'flip', offset: 1000 } });
  const err = await copyV1(e).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH');
  t.equal(err.transient, true);
  t.equal(err.details.digest, imgs.amd64.layers[0]);
  t.match(err.message, `${mirror.host}/faults/app${n}`);
  t.equal(await inspectRaw(`${mirror.host}/faults/app${n}:v1`), undefined, 'no manifest in the mirror');
  t.equal(await e.blobExists(`${mirror.host}/faults/app${n}`, imgs.amd64.layers[0]!), false, 'corrupt blob HEAD is 404');
});

t.test('truncated blob body: transient error, nothing committed', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'truncate' } });
  const err = await copyV1(e).catch((x) => x);
  t.ok(['FERRY_ERR_REGISTRY_CONNECTION', 'FERRY_ERR_REGISTRY_SIZE_MISMATCH'].includes(err.code), err.code);
  t.equal(err.transient, true);
  t.equal(await inspectRaw(`${mirror.host}/faults/app${n}:v1`), undefined);
  t.equal(await e.blobExists(`${mirror.host}/faults/app${n}`, imgs.amd64.layers[0]!), false);
});

t.test('truncated once: retried, copy succeeds', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'truncate' }, times: 1 });
  const res = await copyV1(e);
  t.equal(res.digest, imgs.amd64.digest);
  t.equal(res.bytesCopied, imgs.amd64.bytes, 'progress of the failed attempt rolled back');
});

t.test('connection refused: UNREACHABLE, transient', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  const port = await freePort();
  const err = await e.copy({ src: `127.0.0.1:${port}/demo/app:v1`, dst: `${mirror.host}/faults/refused:v1` }).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_UNREACHABLE');
  t.equal(err.transient, true);
  t.match(err.message, `127.0.0.1:${port}`);
});

t.test('stalled response: TIMEOUT after copy.timeoutMs, transient', async (t) => {
  const e = new RegistryEngine({ config: testConfig({ copy: { timeoutMs: 300 } }), retries: 0 });
  t.teardown(() => e.close());
  proxy.rules.push({ path: /\/manifests\//, fault: { kind: 'stall' } });
  const err = await copyV1(e).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_TIMEOUT');
  t.equal(err.transient, true);
});

t.test('caller abort: ABORTED promptly', async (t) => {
  const e = engine();
  t.teardown(() => e.close());
  proxy.rules.push({ method: 'GET', path: layer0(), fault: { kind: 'stall' } });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 200);
  const err = await copyV1(e, ctrl.signal).catch((x) => x);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_ABORTED');
  t.equal(await inspectRaw(`${mirror.host}/faults/app${n}:v1`), undefined);
});

t.test("the mirror misreads a child's link while it is rewritten (DIGEST_INVALID + MANIFEST_BLOB_UNKNOWN): the manifest PUT is sent again", async (t) => {
  const e = engine();
  const front = await startFaultProxy(mirror.host);
  t.teardown(async () => {
    await e.close();
    await front.stop();
  });
  // docker-registry 2.8's answer when a link file it reads is half-written by a concurrent PUT of the same child
  const body = JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }, { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
  front.rules.push({ method: 'PUT', path: /\/manifests\/v1$/, fault: { kind: 'status', status: 400, body }, times: 1 });
  const res = await e.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${front.host}/faults/race${++n}:v1` });
  t.equal(res.digest, imgs.amd64.digest);
  t.same(front.log.filter((l) => /^PUT .*\/manifests\/v1/.test(l)).map((l) => l.endsWith('!status')), [true, false], 'refused once, then taken');
  t.equal((await inspectRaw(`${mirror.host}/faults/race${n}:v1`))?.digest, imgs.amd64.digest);
});

t.test('a manifest naming a blob the mirror lacks (MANIFEST_BLOB_UNKNOWN alone) is not sent again', async (t) => {
  const e = engine();
  const front = await startFaultProxy(mirror.host);
  t.teardown(async () => {
    await e.close();
    await front.stop();
  });
  const body = JSON.stringify({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
  front.rules.push({ method: 'PUT', path: /\/manifests\/v1$/, fault: { kind: 'status', status: 400, body } });
  const err = await e.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${front.host}/faults/missing${++n}:v1` }).catch((x) => x);
  t.match(err, { code: 'FERRY_ERR_REGISTRY_MANIFEST_INVALID', transient: false });
  t.equal(front.log.filter((l) => /^PUT .*\/manifests\/v1/.test(l)).length, 1, 'one PUT');
});
