import t from 'tap';
import { DEFAULTS, type FerryConfig } from '../../src/config/index.js';
import { FerryError } from '../../src/errors.js';
import { BACKOFF_HARD_CAP_MS, nextDelay } from '../../src/worker/backoff.js';
import { decideFailure } from '../../src/worker/failure.js';
import { createProgressWriter } from '../../src/worker/progress.js';
import { backoffStrategy } from '../../src/worker/processor.js';
import { diffConfig, hasRelevantChange, hostOf, requeueReason } from '../../src/worker/requeue-rule.js';

const B = { initialMs: 1000, maxMs: 600_000 };
const transient = new FerryError('FERRY_ERR_REGISTRY_UNREACHABLE', 'down', { transient: true, hint: 'retry' });
const permanent = new FerryError('FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN', 'no such tag', { transient: false, hint: 'check the reference' });
const rateLimited = (ms: number) => new FerryError('FERRY_ERR_REGISTRY_RATE_LIMITED', '429', { transient: true, details: { retryAfterMs: ms } });

t.test('nextDelay: doubling with equal jitter in [base/2, base]', async (t) => {
  t.equal(nextDelay(1, B, transient, () => 0), 500);
  t.equal(nextDelay(1, B, transient, () => 1), 1000);
  t.equal(nextDelay(1, B, transient, () => 0.5), 750);
  t.equal(nextDelay(2, B, transient, () => 1), 2000);
  t.equal(nextDelay(3, B, transient, () => 0), 2000);
  t.equal(nextDelay(4, B, transient, () => 1), 8000);
  for (let attempt = 1; attempt < 40; attempt++) {
    for (const r of [0, 0.25, 0.999, 1]) {
      const d = nextDelay(attempt, B, undefined, () => r);
      const base = Math.min(1000 * 2 ** (attempt - 1), 600_000);
      t.ok(d >= base / 2 - 1 && d <= base, `attempt ${attempt} rand ${r}: ${d} within [${base / 2}, ${base}]`);
    }
  }
});

t.test('nextDelay: capped at maxMs and never past 10 minutes', async (t) => {
  t.equal(nextDelay(30, { initialMs: 1000, maxMs: 5000 }, transient, () => 1), 5000);
  t.equal(nextDelay(30, { initialMs: 1000, maxMs: 5000 }, transient, () => 0), 2500);
  t.equal(nextDelay(60, { initialMs: 1000, maxMs: 3_600_000 }, transient, () => 1), BACKOFF_HARD_CAP_MS, 'maxMs above 10 min is clamped');
  t.equal(nextDelay(5000, B, transient, () => 1), 600_000, 'huge attempt numbers do not overflow');
  t.equal(nextDelay(1, { initialMs: 0, maxMs: 1000 }, transient, () => 1), 0);
  t.equal(nextDelay(0, B, transient, () => 1), 1000, 'attempt < 1 treated as 1');
});

t.test('nextDelay: a longer Retry-After wins, still within 10 minutes', async (t) => {
  t.equal(nextDelay(1, B, rateLimited(30_000), () => 1), 30_000);
  t.equal(nextDelay(5, B, rateLimited(100), () => 1), 16_000, 'shorter Retry-After: backoff wins');
  t.equal(nextDelay(1, B, rateLimited(3_600_000), () => 1), BACKOFF_HARD_CAP_MS);
  t.equal(nextDelay(1, B, { details: { retryAfterMs: 'soon' } }, () => 1), 1000, 'junk ignored');
});

t.test('decideFailure: retrying until maxAttempts, then error; permanent at once', async (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const r = decideFailure({ attempt: 1, maxAttempts: 3, err: transient, backoff: B, now, rand: () => 1 });
  t.same(r, { state: 'retrying', delayMs: 1000, nextAttemptAt: '2025-01-01T00:00:01.000Z', lastError: 'down (retry)' });
  t.match(decideFailure({ attempt: 2, maxAttempts: 3, err: transient, backoff: B, now, rand: () => 1 }), { state: 'retrying', delayMs: 2000 });
  t.same(decideFailure({ attempt: 3, maxAttempts: 3, err: transient, backoff: B, now }), { state: 'error', permanent: false, lastError: 'down (retry)' });
  t.same(decideFailure({ attempt: 1, maxAttempts: 8, err: permanent, backoff: B, now }), {
    state: 'error',
    permanent: true,
    lastError: 'no such tag (check the reference)',
  });
  t.match(decideFailure({ attempt: 1, maxAttempts: 8, err: new TypeError('bug'), backoff: B, now }), { state: 'retrying', lastError: 'bug' }, 'unknown errors are transient');
  t.match(decideFailure({ attempt: 1, maxAttempts: 8, err: 'string thrown', backoff: B, now }), { state: 'retrying', lastError: 'string thrown' });
  t.match(decideFailure({ attempt: 1, maxAttempts: 1, err: transient, backoff: B, now }), { state: 'error' }, 'maxAttempts 1: no retry');
  t.match(decideFailure({ attempt: 2, maxAttempts: 5, err: rateLimited(45_000), backoff: B, now, rand: () => 0 }), { state: 'retrying', delayMs: 45_000 });
});

t.test('backoffStrategy returns the delay the processor recorded, else computes one', async (t) => {
  const cfg = structuredClone(DEFAULTS);
  const strategy = backoffStrategy(() => cfg, () => 1);
  t.equal(strategy(3, 'ferry', new Error('x')), 4000);
  t.equal(strategy(1, 'ferry', undefined), 1000);
});

function cfgWith(mut: (c: FerryConfig) => void): FerryConfig {
  const c = structuredClone(DEFAULTS);
  mut(c);
  return c;
}

t.test('config change rule', async (t) => {
  const base = cfgWith(() => {});
  const exhausted = { ref: 'docker.io/library/a:1', state: 'error' as const, attempts: 8, maxAttempts: 8 };
  const permanentRec = { ref: 'ghcr.io/x/b:1', state: 'error' as const, attempts: 1, maxAttempts: 8 };
  const mirrored = { ref: 'docker.io/library/c:1', state: 'mirrored' as const, attempts: 1, maxAttempts: 8 };

  const same = diffConfig(base, cfgWith((c) => (c.queue.concurrency = 9)));
  t.notOk(hasRelevantChange(same), 'concurrency is not relevant');
  t.equal(requeueReason(exhausted, same), undefined);

  const grew = diffConfig(base, cfgWith((c) => (c.queue.maxAttempts = 10)));
  t.ok(hasRelevantChange(grew));
  t.equal(requeueReason(exhausted, grew), 'queue.maxAttempts raised');
  t.equal(requeueReason(permanentRec, grew), undefined, 'a permanent failure is not retried for more attempts');
  t.equal(requeueReason(mirrored, grew), undefined, 'only error records');
  t.notOk(hasRelevantChange(diffConfig(base, cfgWith((c) => (c.queue.maxAttempts = 3)))), 'shrinking is not');

  const plat = diffConfig(base, cfgWith((c) => (c.copy.platforms = ['linux/amd64'])));
  t.equal(requeueReason(permanentRec, plat), 'copy.platforms, copy.platformMode or mirror changed');
  t.notOk(hasRelevantChange(diffConfig(base, cfgWith((c) => (c.copy.platforms = ['linux/arm64', 'linux/amd64'])))), 'order of platforms does not matter');
  const mir = diffConfig(base, cfgWith((c) => (c.mirror.registry = 'other:5000')));
  t.equal(requeueReason(exhausted, mir), 'copy.platforms, copy.platformMode or mirror changed');

  const reg = diffConfig(base, cfgWith((c) => (c.registries = { 'ghcr.io': { username: 'u', password: 'p' } })));
  t.equal(requeueReason(permanentRec, reg), 'registries.ghcr.io changed');
  t.equal(requeueReason(exhausted, reg), undefined, 'other hosts untouched');
  const hub = diffConfig(base, cfgWith((c) => (c.registries = { 'index.docker.io': { username: 'u', password: 'p' } })));
  t.equal(requeueReason(exhausted, hub), 'registries.docker.io changed', "Docker Hub's aliases are one host");
  const any = diffConfig(base, cfgWith((c) => (c.registries = { '*': { credentialsFile: '/etc/ferry/config.json' } })));
  t.equal(requeueReason(permanentRec, any), 'registries."*" changed', 'the default entry may fix any host');
  t.equal(hostOf('127.0.0.1:5000/a/b:1'), '127.0.0.1:5000');
});

t.test('progress writer: first tick at once, then at most one per interval, none after flush', async (t) => {
  let clock = 0;
  const writes: number[] = [];
  let release: () => void = () => {};
  const w = createProgressWriter(
    async (done) => {
      writes.push(done);
      await new Promise<void>((r) => (release = r));
    },
    250,
    () => clock,
  );
  w.onProgress({ bytesDone: 1, bytesTotal: 10 });
  w.onProgress({ bytesDone: 2, bytesTotal: 10 });
  t.same(writes, [1]);
  release();
  await new Promise((r) => setImmediate(r));
  clock = 100;
  w.onProgress({ bytesDone: 3, bytesTotal: 10 });
  t.same(writes, [1], 'throttled');
  clock = 260;
  w.onProgress({ bytesDone: 4, bytesTotal: 10 });
  t.same(writes, [1, 4]);
  let flushed = false;
  const f = w.flush().then(() => (flushed = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(flushed, 'flush waits for the write in flight');
  release();
  await f;
  clock = 10_000;
  w.onProgress({ bytesDone: 9, bytesTotal: 10 });
  t.same(writes, [1, 4], 'nothing after flush');
});
