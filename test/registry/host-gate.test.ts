/** The adaptive host gate's decisions (host-gate.ts) and the headers it reads (rate-limit-headers.ts): pure, the time passed in. */
import t from 'tap';
import { gateHoldError, parseRetryAfter } from '../../src/registry/errors.js';
import {
  DOCKER_HUB_WINDOW_SECONDS,
  gateSettingsFor,
  HostGate,
  INITIAL_LIMIT,
  MAX_LIMIT,
  pullBudgetFor,
  type GateSettings,
  type Outcome,
} from '../../src/registry/host-gate.js';
import { readQuota } from '../../src/registry/rate-limit-headers.js';
import { testConfig } from './support/fixtures.js';

const GENERIC: GateSettings = { pullsOnly: false };
const headers = (h: Record<string, string>) => (name: string) => h[name.toLowerCase()] ?? null;

/** Sends one request through `gate` at `now` (it must be admitted) and answers it with `outcome`. */
function exchange(gate: HostGate, now: number, outcome: Outcome, pull = false): void {
  if (!gate.admit(now, pull).go) throw new Error(`not admitted at ${now}`);
  gate.finish(now, gate.start(now, pull, true), outcome);
}

/** Fills every place of the gate: the requests' tickets. */
function fill(gate: HostGate, now: number) {
  const tickets = [];
  while (gate.admit(now, false).go) tickets.push(gate.start(now, false, false));
  return tickets;
}

t.test('concurrency: starts at 16 in flight, the 17th waits for a place, a finished one lets it in', async (t) => {
  const gate = new HostGate(GENERIC);
  const tickets = fill(gate, 0);
  t.equal(tickets.length, INITIAL_LIMIT);
  t.same(gate.admit(0, false), { go: false, slot: true });
  gate.finish(1, tickets[0]!, { status: 200, latencyMs: 1 });
  t.ok(gate.admit(1, false).go);
});

t.test('AIMD: grows while answers are fast and the limit is what holds requests back; never above the max', async (t) => {
  const gate = new HostGate(GENERIC);
  for (let i = 0; i < 20; i++) exchange(gate, i, { status: 200, latencyMs: 50 });
  t.equal(gate.limit, INITIAL_LIMIT + 1, 'about +1 per limit-many answers');
  for (let i = 0; i < 10_000; i++) exchange(gate, i, { status: 200, latencyMs: 50 });
  t.equal(gate.limit, MAX_LIMIT);
  const uncontended = new HostGate(GENERIC);
  for (let i = 0; i < 100; i++) uncontended.finish(i, uncontended.start(i, false, false), { status: 200, latencyMs: 50 });
  t.equal(uncontended.limit, INITIAL_LIMIT, 'a limit nothing pressed against does not grow');
});

t.test('AIMD: no growth once latency leaves its floor; 404s and other 4xx change nothing', async (t) => {
  const gate = new HostGate(GENERIC);
  exchange(gate, 0, { status: 200, latencyMs: 50 });
  const before = gate.limit;
  for (let i = 0; i < 100; i++) exchange(gate, i, { status: 200, latencyMs: 500 });
  t.equal(gate.limit, before, 'slow answers: the registry is queueing, no growth');
  for (let i = 0; i < 100; i++) exchange(gate, i, { status: i % 2 ? 404 : 403, latencyMs: 50 });
  t.equal(gate.limit, before, '4xx: neither growth nor backoff');
});

t.test('AIMD: halves on 429, 503, timeouts and dropped connections, once per round, never below 1', async (t) => {
  const gate = new HostGate(GENERIC);
  const burst = fill(gate, 0);
  gate.finish(10, burst[0]!, { status: 503 });
  t.equal(gate.limit, INITIAL_LIMIT / 2, '503: halved');
  for (const tk of burst.slice(1)) gate.finish(11, tk, { status: 503 });
  t.equal(gate.limit, INITIAL_LIMIT / 2, 'the rest of the same burst does not halve it again');
  exchange(gate, 20, { status: 429 });
  t.equal(gate.limit, INITIAL_LIMIT / 4, '429 of a later request: halved again');
  exchange(gate, 30, { failure: 'congestion' });
  t.equal(gate.limit, INITIAL_LIMIT / 8, 'timeout / reset');
  exchange(gate, 40, { failure: 'neutral' });
  t.equal(gate.limit, INITIAL_LIMIT / 8, 'a cancelled or refused request says nothing about load');
  for (let i = 50; i < 60; i++) exchange(gate, i, { status: 503 });
  t.equal(gate.limit, 1, 'floor of 1');
  t.ok(gate.admit(60, false).go, 'one request may still go');
});

t.test('Retry-After (delta-seconds or HTTP-date) pauses every new request to the host until then', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(parseRetryAfter('7', now), 7000);
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  const gate = new HostGate(GENERIC);
  exchange(gate, now, { status: 429, retryAfterMs: parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)! });
  t.same(gate.admit(now + 29_999, false), { go: false, hold: { until: now + 30_000, why: 'retry-after' } }, 'held, whatever the request');
  t.ok(gate.admit(now + 30_000, false).go, 'free again at the date');
  exchange(gate, now + 30_000, { status: 503, retryAfterMs: 5000 });
  t.equal((gate.admit(now + 34_000, false) as { hold: { until: number } }).hold.until, now + 35_000, '503 with Retry-After pauses too');
  const other = new HostGate(GENERIC);
  exchange(other, now, { status: 500, retryAfterMs: 5000 });
  t.ok(other.admit(now + 1, false).go, 'a Retry-After on another status does not pause');
});

t.test('readQuota: the IETF draft headers, the combined header, Docker Hub', async (t) => {
  t.same(readQuota(headers({ 'ratelimit-limit': '100', 'ratelimit-remaining': '5', 'ratelimit-reset': '30' })), { remaining: 5, limit: 100, resetMs: 30_000 });
  t.same(readQuota(headers({ 'ratelimit-remaining': '5', 'ratelimit-policy': '100;w=3600' })), { remaining: 5, limit: 100, windowMs: 3_600_000 });
  t.same(readQuota(headers({ ratelimit: 'limit=100, remaining=0, reset=12' })), { remaining: 0, limit: 100, resetMs: 12_000 });
  t.same(readQuota(headers({ ratelimit: '"default";r=3;t=9' })), { remaining: 3, resetMs: 9000 });
  t.same(readQuota(headers({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' })), { remaining: 76, limit: 100, windowMs: 21_600_000 }, 'Docker Hub');
  const now = 1_800_000_000_000;
  t.same(readQuota(headers({ 'ratelimit-remaining': '0', 'ratelimit-reset': String(now / 1000 + 45) }), now), { remaining: 0, resetMs: 45_000 }, 'a Unix-time reset');
  t.equal(readQuota(headers({ 'content-type': 'x' })), undefined);
  t.equal(readQuota(headers({ 'ratelimit-remaining': 'lots' })), undefined);
});

t.test('quota: at RateLimit-Remaining 0 every request waits for the reset (a generic registry counts them all)', async (t) => {
  const gate = new HostGate(GENERIC);
  exchange(gate, 0, { status: 200, latencyMs: 5, quota: { remaining: 2, limit: 10, resetMs: 60_000 } });
  exchange(gate, 1, { status: 200, latencyMs: 5 });
  exchange(gate, 2, { status: 200, latencyMs: 5 });
  t.same(gate.admit(3, false), { go: false, hold: { until: 60_000, why: 'quota', limit: 10 } }, 'the two sent since the reading used the rest');
  t.same(gate.snapshot(3), { limit: INITIAL_LIMIT, inFlight: 0, remaining: 0, quotaLimit: 10 });
  t.ok(gate.admit(60_000, false).go, 'free at the reset');
});

t.test('Docker Hub headers: only pulls count and only pulls wait; a rolling window frees one pull per w/limit', async (t) => {
  const hub = gateSettingsFor(testConfig(), 'docker.io');
  t.equal(hub.pullsOnly, true);
  const gate = new HostGate(hub);
  const w = DOCKER_HUB_WINDOW_SECONDS * 1000;
  exchange(gate, 0, { status: 200, latencyMs: 5, quota: { remaining: 1, limit: 100, windowMs: w } }, false);
  exchange(gate, 1, { status: 200, latencyMs: 5 }, false);
  t.ok(gate.admit(2, true).go, 'a HEAD did not use the last pull');
  exchange(gate, 2, { status: 200, latencyMs: 5 }, true);
  t.same(gate.admit(3, true), { go: false, hold: { until: w / 100, why: 'pulls', limit: 100 } }, 'the next pull waits 216 s');
  t.ok(gate.admit(3, false).go, 'HEADs and blobs still go');
  exchange(gate, 4, { status: 200, latencyMs: 5, quota: { remaining: 40, limit: 200, windowMs: w } }, false);
  t.ok(gate.admit(5, true).go, 'a fresher reading (here from a HEAD) lifts the hold');
});

t.test('pull budget: ferry counts its own pulls per window when the registry says nothing', async (t) => {
  const gate = new HostGate({ pullsOnly: true, pullBudget: { count: 3, windowMs: 1000 } });
  for (const at of [0, 100, 200]) exchange(gate, at, { status: 200, latencyMs: 5 }, true);
  t.same(gate.admit(300, true), { go: false, hold: { until: 1000, why: 'pulls', limit: 3 } }, 'the 4th pull in the window waits until the 1st leaves it');
  t.ok(gate.admit(300, false).go, 'a HEAD is not a pull');
  t.ok(gate.admit(1000, true).go, 'the window rolled');
  exchange(gate, 1000, { status: 200, latencyMs: 5, quota: { remaining: 50, limit: 100, windowMs: 1_000_000 } }, true);
  exchange(gate, 1001, { status: 200, latencyMs: 5 }, true);
  exchange(gate, 1002, { status: 200, latencyMs: 5 }, true);
  t.ok(gate.admit(1003, true).go, 'a live reading wins over the built-in count');
});

t.test('pullBudgetFor: Docker Hub published numbers, more with credentials, config overrides or disables', async (t) => {
  const w = DOCKER_HUB_WINDOW_SECONDS * 1000;
  t.same(pullBudgetFor(testConfig(), 'docker.io'), { count: 100, windowMs: w }, 'anonymous: 100 per 6 h');
  t.same(pullBudgetFor(testConfig(), 'registry-1.docker.io'), { count: 100, windowMs: w }, 'any of its names');
  t.same(pullBudgetFor(testConfig({ registries: { 'docker.io': { username: 'u', password: 'p' } } }), 'index.docker.io'), { count: 200, windowMs: w }, 'authenticated: 200');
  t.same(pullBudgetFor(testConfig({ registries: { 'docker.io': { pullLimit: { count: 5000, windowSeconds: 86400 } } } }), 'docker.io'), { count: 5000, windowMs: 86_400_000 });
  t.same(pullBudgetFor(testConfig({ registries: { 'docker.io': { pullLimit: { windowSeconds: 3600 } } } }), 'docker.io'), { count: 100, windowMs: 3_600_000 }, 'a field left out keeps its default');
  t.equal(pullBudgetFor(testConfig({ registries: { 'docker.io': { pullLimit: { count: 0 } } } }), 'docker.io'), undefined, 'count 0: off');
  t.equal(pullBudgetFor(testConfig(), 'ghcr.io'), undefined, 'other registries: none unless configured');
  t.same(gateSettingsFor(testConfig({ registries: { 'r.example': { pullLimit: { count: 10 } } } }), 'r.example'), { pullsOnly: true, pullBudget: { count: 10, windowMs: w } });
  t.same(gateSettingsFor(testConfig(), 'ghcr.io'), { pullsOnly: false, pullBudget: undefined });
});

t.test('gateHoldError: a used-up pull budget is a transient PULL_LIMIT with the time to wait for and retryAfterMs', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const e = gateHoldError({ why: 'pulls', limit: 100 }, 216_000, { host: 'docker.io', repository: 'library/nginx', op: 'GET manifest 1.27' }, now);
  t.equal(e.code, 'FERRY_ERR_REGISTRY_PULL_LIMIT');
  t.equal(e.transient, true);
  t.equal(e.details?.retryAfterMs, 216_000);
  t.match(e.hint, /^docker\.io pull limit reached; authenticate \(registries\.docker\.io credentials\) or wait until 2026-01-01T00:03:36\.000Z/);
  const paused = gateHoldError({ why: 'retry-after' }, 60_000, { host: 'r.example' }, now);
  t.equal(paused.code, 'FERRY_ERR_REGISTRY_RATE_LIMITED');
  t.match(paused.message, /Retry-After\) until 2026-01-01T00:01:00\.000Z; not sent/);
});
