/**
 * The adaptive upstream limits end to end: copies through the engine from a
 * real docker-registry behind a proxy that plays a rate-limiting upstream
 * (429 + Retry-After, 503s, Docker Hub's ratelimit headers). Each test has
 * its own proxy, so its own host and gate (gates are per host, process-wide).
 */
import t, { type Test } from 'tap';
import { register } from 'prom-client';
import '../../src/registry/host-gate-metrics.js';
import { INITIAL_LIMIT } from '../../src/registry/host-gate.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { startRateLimitProxy, type ProxiedRequest, type RateLimitProxy } from '../support/rate-limit-proxy.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, pushTestImages, testConfig, type TestImages } from './support/fixtures.js';
import type { RegistryConfig } from '../../src/config/types.js';

let upstream: TestRegistry;
let mirror: TestRegistry;
let imgs: TestImages;

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  imgs = buildTestImages();
  await pushTestImages(imgs, upstream.host);
});
t.teardown(async () => {
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  imgs?.cleanup();
});

const isManifestGet = (r: ProxiedRequest) => r.method === 'GET' && r.path.includes('/manifests/');

async function setup(t: Test, entry: RegistryConfig = {}, opts: { maxRetryAfterMs?: number } = {}): Promise<{ proxy: RateLimitProxy; engine: RegistryEngine }> {
  const proxy = await startRateLimitProxy(upstream.host);
  // referrers off: the copy's requests are then one sequence this test can reason about
  const engine = new RegistryEngine({ config: testConfig({ registries: { [proxy.host]: entry }, copy: { referrers: false } }), backoffMs: 20, ...opts });
  t.teardown(async () => {
    await engine.close();
    await proxy.close();
  });
  return { proxy, engine };
}

/** The gauge's value for `host`, as /metrics would show it. */
async function gaugeValue(name: string, host: string): Promise<number | undefined> {
  const m = await register.getSingleMetric(name)!.get();
  return m.values.find((v) => v.labels.host === host)?.value;
}

t.test('429 with an HTTP-date Retry-After: nothing reaches the upstream before that date, then the copy succeeds', async (t) => {
  const { proxy, engine } = await setup(t);
  let until = 0;
  proxy.policy = (r) => {
    if (until || !isManifestGet(r)) return { pass: true };
    until = Math.ceil(Date.now() / 1000) * 1000 + 2000; // HTTP-dates have whole seconds
    return { answer: 429, headers: { 'retry-after': new Date(until).toUTCString() } };
  };
  const res = await engine.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/limits/retry-date:v1` });
  t.equal(res.digest, imgs.amd64.digest, 'copied');
  const refused = proxy.log.findIndex((r) => r.at > 0 && isManifestGet(r));
  const after = proxy.log.slice(refused + 1);
  t.ok(after.length > 0, 'the copy went on after the pause');
  t.same(after.filter((r) => r.at < until), [], `no request before ${new Date(until).toISOString()}`);
});

t.test('a Retry-After longer than the engine waits: the copy fails with retryAfterMs, the next one at once, sending nothing', async (t) => {
  const { proxy, engine } = await setup(t, {}, { maxRetryAfterMs: 1000 });
  proxy.policy = (r) => (isManifestGet(r) ? { answer: 503, headers: { 'retry-after': '120' } } : { pass: true });
  const first = await engine.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/limits/long:v1` }).catch((e) => e);
  t.equal(first.code, 'FERRY_ERR_REGISTRY_SERVER');
  t.equal(first.details.retryAfterMs, 120_000, 'the queue backoff gets the wait');
  const sent = proxy.log.length;
  const second = await engine.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/limits/long:v1` }).catch((e) => e);
  t.equal(second.code, 'FERRY_ERR_REGISTRY_RATE_LIMITED');
  t.equal(second.transient, true);
  t.match(second.message, /asked for a pause \(Retry-After\) until .*; not sent/);
  t.ok(second.details.retryAfterMs > 110_000 && second.details.retryAfterMs <= 120_000, `still paused: ${second.details.retryAfterMs} ms`);
  t.equal(proxy.log.length, sent, 'nothing was sent');
});

t.test('503s for a while: the host gate halves its concurrency and the copy still succeeds', async (t) => {
  const { proxy, engine } = await setup(t);
  let failures = 3;
  proxy.policy = (r) => (r.path.includes('/blobs/') && failures-- > 0 ? { answer: 503 } : { pass: true });
  t.equal(await gaugeValue('ferry_registry_concurrency_limit', proxy.host), undefined, 'no gate before the first request');
  const res = await engine.copy({ src: `${proxy.host}/demo/app:multi`, dst: `${mirror.host}/limits/busy:multi`, platforms: [] });
  t.equal(res.digest, imgs.index.digest, 'copied');
  t.ok(failures < 0, 'the registry answered 503 three times');
  const limit = await gaugeValue('ferry_registry_concurrency_limit', proxy.host);
  t.ok(limit !== undefined && limit < INITIAL_LIMIT, `ferry_registry_concurrency_limit fell to ${limit}`);
});

t.test("Docker Hub's ratelimit headers: at remaining 0 the copy fails PULL_LIMIT with the hint, and no further pull is sent", async (t) => {
  // pullLimit marks the host as one that counts pulls (manifest GETs) only, as Docker Hub does
  const { proxy, engine } = await setup(t, { pullLimit: { count: 100 } });
  let remaining = 2;
  proxy.policy = (r) => {
    if (isManifestGet(r)) remaining = Math.max(0, remaining - 1);
    return { pass: true, headers: { 'ratelimit-limit': '2;w=21600', 'ratelimit-remaining': `${remaining};w=21600` } };
  };
  await engine.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/limits/hub:v1` });
  t.equal(await gaugeValue('ferry_registry_ratelimit_remaining', proxy.host), 1, 'ferry_registry_ratelimit_remaining');
  t.equal(await gaugeValue('ferry_registry_ratelimit_limit', proxy.host), 2, 'ferry_registry_ratelimit_limit');
  const err = await engine.copy({ src: `${proxy.host}/demo/app:multi`, dst: `${mirror.host}/limits/hub:multi` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_PULL_LIMIT');
  t.equal(err.transient, true);
  t.match(err.hint, new RegExp(`^${proxy.host.replace(/\./g, '\\.')} pull limit reached; authenticate \\(registries\\.${proxy.host.replace(/\./g, '\\.')} credentials\\) or wait until \\d{4}-`));
  // a rolling window of 2 pulls per 6 h frees one every 3 h
  t.ok(err.details.retryAfterMs > 3 * 3600_000 - 60_000, `retryAfterMs ${err.details.retryAfterMs}`);
  t.equal(proxy.log.filter(isManifestGet).length, 2, 'exactly the two pulls allowed were sent');
});

t.test("a configured pull budget without headers: ferry's own count stops the pull past it", async (t) => {
  const { proxy, engine } = await setup(t, { pullLimit: { count: 1, windowSeconds: 3600 } });
  await engine.copy({ src: `${proxy.host}/demo/app:v1`, dst: `${mirror.host}/limits/own:v1` });
  const heads = proxy.log.filter((r) => r.method === 'HEAD').length;
  const err = await engine.copy({ src: `${proxy.host}/demo/app:multi`, dst: `${mirror.host}/limits/own:multi` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_PULL_LIMIT');
  t.ok(err.details.retryAfterMs > 3500_000 && err.details.retryAfterMs <= 3600_000, 'until the first pull leaves the hour');
  t.equal(proxy.log.filter(isManifestGet).length, 1, 'one pull sent');
  t.ok(proxy.log.filter((r) => r.method === 'HEAD').length >= heads, 'HEADs are not pulls: still allowed');
});
