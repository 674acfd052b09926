/**
 * Requests shared by concurrent callers (the `/v2/` ping per host, a token
 * per scope, a blob transfer per mirror repository and digest) must not fail
 * for everyone when the caller that started them is cancelled. Real HTTP on
 * loopback; the shared answer is held by the server until the test releases
 * it (an event, not a sleep). Each test has a timeout: a wait that cannot be
 * abandoned shows up as a hang there.
 */
import t, { type Test } from 'tap';
import { BlobTransfer } from '../../src/registry/blob-transfer.js';
import { Progress } from '../../src/registry/blobs.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { noopLogger, Transport } from '../../src/registry/transport/index.js';
import { gate, imageManifest, sha256, startFakeRegistry, type FakeRegistry } from './support/fakeregistry.js';
import { testConfig } from './support/fixtures.js';

const ABORTED = 'FERRY_ERR_REGISTRY_ABORTED';
const CONFIG = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const MANIFEST = imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, []);

async function fake(t: Test): Promise<FakeRegistry> {
  const f = await startFakeRegistry();
  t.teardown(() => f.stop());
  return f;
}
function engine(t: Test): RegistryEngine {
  const e = new RegistryEngine({ config: testConfig(), retries: 0 });
  t.teardown(() => e.close());
  return e;
}

t.test('ping: the first caller aborts, the second still gets its answer from the one ping', { timeout: 20_000 }, async (t) => {
  const reg = await fake(t);
  const held = gate();
  reg.route('GET', '/v2/', async (req, res) => {
    req.resume();
    held.arrive();
    await held.opened;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  const digest = reg.manifest('demo/app', ['v1'], MANIFEST);
  const e = engine(t);
  const a = new AbortController();
  const first = e.resolveDigest(`${reg.host}/demo/app:v1`, a.signal);
  const second = e.resolveDigest(`${reg.host}/demo/app:v1`, new AbortController().signal);
  await held.arrived;
  a.abort();
  await t.rejects(first, { code: ABORTED }, 'the aborted caller is told at once');
  held.open();
  t.equal((await second)?.digest, digest, 'the other caller is answered');
  t.equal(reg.log.filter((l) => l === 'GET /v2/').length, 1, 'exactly one ping');
});

t.test('token: the first caller aborts, the second still gets the one token', { timeout: 20_000 }, async (t) => {
  const reg = await fake(t);
  const held = gate();
  reg.route('GET', '/v2/', (req, res) => {
    req.resume();
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${reg.port}/token",service="fake"` }).end();
  });
  reg.route('GET', '/token', async (req, res) => {
    req.resume();
    held.arrive();
    await held.opened;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'tok-1', expires_in: 300 }));
  });
  const digest = sha256(MANIFEST);
  reg.route('HEAD', '/v2/demo/app/manifests/v1', (req, res) => {
    req.resume();
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${reg.port}/token",service="fake"` }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': String(MANIFEST.length), 'Docker-Content-Digest': digest }).end();
  });
  const e = engine(t);
  const a = new AbortController();
  const first = e.resolveDigest(`${reg.host}/demo/app:v1`, a.signal);
  const second = e.resolveDigest(`${reg.host}/demo/app:v1`, new AbortController().signal);
  await held.arrived;
  a.abort();
  await t.rejects(first, { code: ABORTED });
  held.open();
  t.equal((await second)?.digest, digest);
  t.equal(reg.log.filter((l) => l.startsWith('GET /token')).length, 1, 'exactly one token request');
  t.equal(reg.log.filter((l) => l.startsWith('HEAD')).length, 1, 'the second caller used that token at once');
});

t.test('engine close ends a held shared ping', { timeout: 20_000 }, async (t) => {
  const reg = await fake(t);
  const held = gate();
  reg.route('GET', '/v2/', async (req) => {
    req.resume();
    held.arrive();
    await held.opened; // never opened: only close can end it
  });
  const e = engine(t);
  const pending = e.resolveDigest(`${reg.host}/demo/app:v1`);
  await held.arrived;
  await e.close();
  await t.rejects(pending, { code: ABORTED });
  held.open();
});

t.test('blob transfer: a copy waiting on another copy\'s transfer can be cancelled alone', { timeout: 20_000 }, async (t) => {
  const [up, mirror] = [await fake(t), await fake(t)];
  const held = gate();
  const blob = Buffer.from('a layer, held');
  const digest = sha256(blob);
  up.route('GET', `/v2/demo/app/blobs/${digest}`, async (req, res) => {
    req.resume();
    held.arrive();
    await held.opened;
    res.writeHead(200, { 'Content-Length': String(blob.length) }).end(blob);
  });
  mirror.route('POST', '/v2/m/app/blobs/uploads/', (req, res) => {
    req.resume();
    res.writeHead(202, { Location: '/v2/m/app/blobs/uploads/u1' }).end();
  });
  mirror.route('PUT', '/v2/m/app/blobs/uploads/u1', (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201).end());
  });
  const transport = new Transport(testConfig(), noopLogger, { retries: 0 });
  t.teardown(() => transport.close());
  const blobs = new BlobTransfer(transport, noopLogger);
  const src = { host: up.host, repository: 'demo/app' };
  const dst = { host: mirror.host, repository: 'm/app' };
  const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length };
  const b = new AbortController();
  const first = blobs.ensureBlob(src, dst, desc, new Progress(), { bytesCopied: 0 }, [], new AbortController().signal);
  const second = blobs.ensureBlob(src, dst, desc, new Progress(), { bytesCopied: 0 }, [], b.signal); // joins the first's transfer
  await held.arrived;
  b.abort();
  await t.rejects(second, { code: ABORTED }, 'the waiting copy is released while the transfer is still held');
  held.open();
  t.equal(await first, 'copied', 'the transfer itself went on');
  t.equal(mirror.log.filter((l) => l.startsWith('PUT')).length, 1);
  t.equal(up.log.filter((l) => l.startsWith('GET /v2/demo')).length, 1, 'one download');
});
