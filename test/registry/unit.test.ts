/** Pure pieces of the engine: no processes. */
import t from 'tap';
import { classifyHttp, classifyThrown, endpointFor, filterIndex, isLoopbackHost, mergeScopes, nextLink, parseChallenges, parseRetryAfter, platformMatches, REGISTRY_ERRORS, splitRef, TokenBucket } from '../../src/registry/index.js';
import { testConfig } from './support/fixtures.js';

t.test('splitRef', async (t) => {
  t.same(splitRef('127.0.0.1:5001/demo/app:v1'), { host: '127.0.0.1:5001', repository: 'demo/app', tag: 'v1' });
  const d = `sha256:${'a'.repeat(64)}`;
  t.same(splitRef(`mirror:5000/docker.io/library/nginx@${d}`), { host: 'mirror:5000', repository: 'docker.io/library/nginx', digest: d });
  t.same(splitRef(`docker.io/library/nginx:1.27@${d}`), { host: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: d });
  t.same(splitRef('nginx'), { host: 'docker.io', repository: 'library/nginx', tag: 'latest' });
  t.same(splitRef('localhost/x/y'), { host: 'localhost', repository: 'x/y', tag: 'latest' });
  t.throws(() => splitRef('host.io/UPPER:v1'), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
  t.throws(() => splitRef('host.io/x@sha256:short'), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
});

t.test('endpointFor: endpoint wins, insecure/loopback -> http, docker.io -> registry-1', async (t) => {
  const c = testConfig({ registries: { 'reg.example': { endpoint: 'https://proxy.example/' }, 'plain.example:5000': { insecure: true } } });
  t.equal(endpointFor(c, 'reg.example'), 'https://proxy.example');
  t.equal(endpointFor(c, 'plain.example:5000'), 'http://plain.example:5000');
  t.equal(endpointFor(c, '127.0.0.1:5000'), 'http://127.0.0.1:5000');
  t.equal(endpointFor(c, '127.1.2.3'), 'http://127.1.2.3');
  t.equal(endpointFor(c, 'localhost:5000'), 'http://localhost:5000');
  t.equal(endpointFor(c, '[::1]:5000'), 'http://[::1]:5000');
  t.equal(endpointFor(c, 'docker.io'), 'https://registry-1.docker.io');
  t.equal(endpointFor(c, 'ghcr.io'), 'https://ghcr.io');
  c.mirror.registry = 'mirror.local:5000';
  c.mirror.insecure = true;
  t.equal(endpointFor(c, 'mirror.local:5000'), 'http://mirror.local:5000');
  t.notOk(isLoopbackHost('127.example.com'));
});

t.test('parseChallenges', async (t) => {
  t.same(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
  ]);
  const two = parseChallenges('Basic realm="a, b", Bearer realm="http://x/token",service="s",scope="repository:a:pull repository:b:pull,push",error="insufficient_scope"');
  t.equal(two.length, 2);
  t.equal(two[0]!.params.realm, 'a, b');
  t.equal(two[1]!.params.scope, 'repository:a:pull repository:b:pull,push');
  t.equal(two[1]!.params.error, 'insufficient_scope');
  t.same(parseChallenges(null), []);
});

t.test('mergeScopes unions actions per resource', async (t) => {
  t.same(mergeScopes(['repository:a:pull', 'repository:a:push', 'repository:b:pull repository:a:pull']), ['repository:a:pull,push', 'repository:b:pull']);
});

t.test('Retry-After: seconds and HTTP-date', async (t) => {
  t.equal(parseRetryAfter('7'), 7000);
  const now = Date.parse('2025-01-01T00:00:00Z');
  t.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  t.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:30 GMT', now), 0);
  t.equal(parseRetryAfter('soon'), undefined);
  t.equal(parseRetryAfter(null), undefined);
});

t.test('error table', async (t) => {
  const ctx = { host: 'reg.example', repository: 'a/b' };
  const f = (status: number, codes: string[] = [], what: 'manifest' | 'blob' | 'upload' = 'manifest', method = 'GET', retryAfter?: string) =>
    classifyHttp({ status, codes, what, method, authenticated: true, ...(retryAfter ? { retryAfter } : {}) }, ctx);
  t.equal(f(500).code, 'FERRY_ERR_REGISTRY_SERVER');
  t.equal(f(500).transient, true);
  const rl = f(429, ['TOOMANYREQUESTS'], 'manifest', 'GET', '3');
  t.equal(rl.code, 'FERRY_ERR_REGISTRY_RATE_LIMITED');
  t.equal(rl.details?.retryAfterMs, 3000);
  t.equal(f(404, ['MANIFEST_UNKNOWN']).code, 'FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN');
  t.equal(f(404, ['NAME_UNKNOWN']).code, 'FERRY_ERR_REGISTRY_NAME_UNKNOWN');
  t.equal(f(404).code, 'FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN');
  t.equal(f(404, [], 'blob').code, 'FERRY_ERR_REGISTRY_BLOB_UNKNOWN');
  t.equal(f(401).code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  t.equal(f(401).transient, false);
  t.equal(f(403, ['DENIED']).code, 'FERRY_ERR_REGISTRY_DENIED');
  t.equal(f(400, ['MANIFEST_INVALID'], 'manifest', 'PUT').code, 'FERRY_ERR_REGISTRY_MANIFEST_INVALID');
  t.equal(f(400, ['MANIFEST_BLOB_UNKNOWN'], 'manifest', 'PUT').code, 'FERRY_ERR_REGISTRY_MANIFEST_INVALID');
  t.equal(f(415).code, 'FERRY_ERR_REGISTRY_UNSUPPORTED_MEDIA_TYPE');
  t.equal(f(405, ['UNSUPPORTED'], 'manifest', 'DELETE').code, 'FERRY_ERR_REGISTRY_DELETE_DISABLED');
  t.equal(f(400, ['DIGEST_INVALID'], 'upload', 'PUT').code, 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH');
  t.match(f(500).message, 'reg.example/a/b');
  const net = (code: string) => classifyThrown(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code }) }), ctx);
  t.equal(net('ECONNREFUSED').code, 'FERRY_ERR_REGISTRY_UNREACHABLE');
  t.equal(net('ECONNRESET').code, 'FERRY_ERR_REGISTRY_CONNECTION');
  t.equal(net('UND_ERR_SOCKET').code, 'FERRY_ERR_REGISTRY_CONNECTION');
  t.equal(net('UND_ERR_HEADERS_TIMEOUT').code, 'FERRY_ERR_REGISTRY_TIMEOUT');
  t.equal(classifyThrown(new Error('socket hang up'), ctx).code, 'FERRY_ERR_REGISTRY_CONNECTION');
  t.equal(classifyThrown(new Error('whatever'), ctx, true).code, 'FERRY_ERR_REGISTRY_ABORTED');
  for (const [k, v] of Object.entries(REGISTRY_ERRORS)) t.ok(v.hint.length > 10, `${k} has a hint`);
});

t.test('platform matching and index filtering', async (t) => {
  t.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64'));
  t.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, 'linux/arm64/v8'));
  t.notOk(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'linux/arm/v7'));
  t.notOk(platformMatches(undefined, 'linux/amd64'));
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const json = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 1, platform: { os: 'linux', architecture: 's390x' } },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d('c'),
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d('a') },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d('e'),
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d('b') },
      },
    ],
  };
  const bytes = Buffer.from(JSON.stringify(json, null, 2));
  const all = filterIndex(bytes, json, [], false);
  t.equal(all.bytes, bytes);
  t.equal(all.filtered, false);
  const f = filterIndex(bytes, json, ['linux/amd64'], false);
  t.equal(f.filtered, true);
  t.same(f.kept.map((k) => k.digest), [d('a'), d('c')], 'kept amd64 and its attestation');
  t.same(f.platforms, ['linux/amd64']);
  t.same(filterIndex(bytes, json, ['linux/amd64'], false).digest, f.digest, 'deterministic');
  const pinned = filterIndex(bytes, json, ['linux/amd64'], true);
  t.equal(pinned.filtered, false);
  t.equal(pinned.kept.length, 4);
  t.equal(filterIndex(bytes, json, ['windows/amd64'], false).kept.length, 0);
});

t.test('nextLink', async (t) => {
  t.equal(nextLink('</v2/a/tags/list?last=x&n=2>; rel="next"', 'https://r.io/v2/a/tags/list?n=2'), 'https://r.io/v2/a/tags/list?last=x&n=2');
  t.equal(nextLink(null, 'https://r.io/'), undefined);
});

t.test('token bucket paces requests', async (t) => {
  const b = new TokenBucket(20); // capacity 20, then 20/s
  const t0 = performance.now();
  for (let i = 0; i < 30; i++) await b.take();
  const ms = performance.now() - t0;
  // a lower bound only: a loaded machine can make it slower, never faster
  t.ok(ms >= 400, `30 takes at 20/s took ${Math.round(ms)} ms`);
  const ctrl = new AbortController();
  const p = b.take(ctrl.signal);
  const q = b.take(ctrl.signal);
  ctrl.abort(new Error('stop'));
  await t.rejects(q, { message: 'stop' });
  await p.catch(() => undefined);
  const unlimited = new TokenBucket(0);
  for (let i = 0; i < 1000; i++) await unlimited.take();
  t.pass('rate 0 = unlimited');
});
