/**
 * What one copy costs in requests (README "Performance", far upstream: every
 * round trip to a far registry counts), counted by a proxy in front of each
 * registry. The numbers are exact, so a step that starts sending one request
 * more fails here. The once-per-host `/v2/` ping is left out: a process pays
 * it once, not per image.
 *
 * A 3-layer image (config + 3 layers = 4 blobs):
 *  - first copy into a fresh mirror: upstream 5 (manifest GET by tag, no
 *    HEAD; 4 blob GETs); mirror 14 (tag HEAD; per blob HEAD, POST, PUT;
 *    manifest PUT);
 *  - re-copy of the unchanged tag: upstream 1 (manifest HEAD), mirror 1 (tag HEAD);
 *  - re-copy after the tag moved: upstream HEAD, then GET by digest.
 * And the keep-alive pool: connections carried over from image to image,
 * bounded per host.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { RegistryEngine } from '../../src/registry/index.js';
import { HttpClient, socketsPerHostFor } from '../../src/registry/transport/http.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startRoundTripProxy, type RoundTripProxy } from '../support/round-trip-proxy.js';
import { testConfig } from './support/fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let upstream: TestRegistry;
let mirror: TestRegistry;
let up: RoundTripProxy;
let mi: RoundTripProxy;
const layout = mkdtempSync(join(tmpdir(), 'ferry-rt-'));
const image = buildImage(layout, { tag: 'one', layerSizes: [40_000, 30_000, 20_000] });
const moved = buildImage(layout, { tag: 'two', layerSizes: [40_000, 30_000, 20_000] });

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  [up, mi] = await Promise.all([startRoundTripProxy(upstream.host), startRoundTripProxy(mirror.host)]);
  await pushImage(layout, 'one', `${upstream.host}/rt/app:1`);
  await pushImage(layout, 'one', `${upstream.host}/rt/pinned:1`);
});
t.teardown(async () => {
  await Promise.all([up?.stop(), mi?.stop()]);
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  rmSync(layout, { recursive: true, force: true });
});

/** What reached each registry since the last call, pings left out: `METHOD kind STATUS`. */
function sent(): { upstream: string[]; mirror: string[] } {
  const kind = (l: string) =>
    l
      .replace(/\?.*? /, ' ')
      .replace(/sha256:[0-9a-f]{64}/g, '<digest>')
      .replace(/\/blobs\/uploads\/[^ ]+/, '/blobs/uploads/<id>')
      .replace(/^(\S+) \/v2\/[^ ]+?\/(manifests|blobs)/, '$1 $2');
  const of = (p: RoundTripProxy) => p.log.filter((l) => !/^GET \/v2\/ /.test(l)).map(kind).sort();
  const out = { upstream: of(up), mirror: of(mi) };
  up.reset();
  mi.reset();
  return out;
}

const times = (n: number, s: string) => Array.from({ length: n }, () => s);
const FRESH_MIRROR = [...times(4, 'HEAD blobs/<digest> 404'), 'HEAD manifests/1 404', ...times(4, 'POST blobs/uploads/ 202'), ...times(4, 'PUT blobs/uploads/<id> 201'), 'PUT manifests/1 201'].sort();

t.test('first copy: manifest GET by tag, no HEAD (5 upstream, 14 mirror); unchanged re-copy: one HEAD each', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  sent();
  const first = await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/rt/app:1` });
  t.equal(first.digest, image.digest);
  t.equal((await inspectRaw(`${mirror.host}/rt/app:1`))?.digest, image.digest, 'the mirror serves the upstream digest');
  const a = sent();
  t.same(a.upstream, ['GET manifests/1 200', ...times(4, 'GET blobs/<digest> 200')].sort(), 'upstream: 5 requests');
  t.same(a.mirror, FRESH_MIRROR, 'mirror: 14 requests');

  const again = await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/rt/app:1` });
  t.equal(again.upToDate, true);
  const b = sent();
  t.same(b.upstream, ['HEAD manifests/1 200'], 'upstream: one HEAD');
  t.same(b.mirror, ['HEAD manifests/1 200'], 'mirror: one HEAD');
});

t.test('the caller says what it knows: null = GET at once, a digest = HEAD first', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  sent();
  await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/known/app:1`, knownSourceDigest: null });
  const a = sent();
  t.same(a.upstream, ['GET manifests/1 200', ...times(4, 'GET blobs/<digest> 200')].sort(), 'no upstream HEAD');
  t.same(a.mirror, FRESH_MIRROR);
  const again = await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/known/app:1`, knownSourceDigest: image.digest });
  t.equal(again.upToDate, true);
  t.same(sent().upstream, ['HEAD manifests/1 200']);
});

t.test('the tag moved upstream: HEAD, then GET by digest and the new blobs', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/moved/app:1` });
  await pushImage(layout, 'two', `${upstream.host}/rt/app:1`);
  t.teardown(() => pushImage(layout, 'one', `${upstream.host}/rt/app:1`));
  sent();
  const res = await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/moved/app:1` });
  t.equal(res.digest, moved.digest);
  t.equal((await inspectRaw(`${mirror.host}/moved/app:1`))?.digest, moved.digest);
  t.same(sent().upstream, ['GET manifests/<digest> 200', 'HEAD manifests/1 200', ...times(4, 'GET blobs/<digest> 200')].sort());
});

t.test('a digest-pinned source: one GET by digest, no HEAD', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  sent();
  await engine.copy({ src: `${up.host}/rt/pinned@${image.digest}`, dst: `${mi.host}/pinned/app@${image.digest}` });
  t.same(sent().upstream, ['GET manifests/<digest> 200', ...times(4, 'GET blobs/<digest> 200')].sort());
});

t.test('a registry whose Docker-Content-Digest disagrees with the bytes: the copy stops, nothing is written', async (t) => {
  const liar = await startRoundTripProxy(upstream.host, { rewriteDigestHeader: `sha256:${'0'.repeat(64)}` });
  t.teardown(() => liar.stop());
  const engine = new RegistryEngine({ config: testConfig(), retries: 0 });
  t.teardown(() => engine.close());
  const err = await engine.copy({ src: `${liar.host}/rt/app:1`, dst: `${mirror.host}/liar/app:1` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH');
  t.match(err.message, /Docker-Content-Digest/);
  t.equal(await inspectRaw(`${mirror.host}/liar/app:1`), undefined, 'nothing pushed');
});

t.test('keep-alive: the next image goes over the connections the last one opened', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  up.reset();
  await engine.copy({ src: `${up.host}/rt/app:1`, dst: `${mi.host}/reuse/a:1` });
  const opened = up.connections();
  t.ok(opened >= 1 && opened <= 5, `first image: ${opened} upstream connections (ping, manifest, 4 blobs at once)`);
  await engine.copy({ src: `${up.host}/rt/pinned:1`, dst: `${mi.host}/reuse/b:1` });
  t.equal(up.connections(), opened, 'second image: no new upstream connection');
});

t.test('the pool per host is bounded: a request past it waits for a free connection instead of opening one', async (t) => {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    res.end('{}');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const http = new HttpClient({ maxSocketsPerHost: 2 });
  t.teardown(() => http.close());
  const signal = new AbortController().signal;
  const send = async () => {
    const r = await http.send({ url: `${origin}/v2/`, method: 'GET', headers: {}, signal, origin });
    r.discard(); // read: the connection goes back to the pool for the next waiting request
    return r.status;
  };
  t.same(await Promise.all(Array.from({ length: 6 }, send)), [200, 200, 200, 200, 200, 200]);
  t.equal(connections, 2, 'six requests over two connections');
  // sized from the config: a blob in flight holds one connection each way, referrers alongside, plus manifests and pings
  t.equal(socketsPerHostFor({ queue: { concurrency: 8 }, copy: { layerConcurrency: 4 } }), 80);
  t.equal(socketsPerHostFor({ queue: { concurrency: 1 }, copy: { layerConcurrency: 1 } }), 18);
});
