/**
 * Far-away upstream benchmark ("Fast from far away"):
 *   node --import tsx bench/far-upstream/run.ts [--rtt-ms 50] [--images 50] [--quick]
 * (`--rtt-ms 50,200` runs both latencies in one go; `--quick` = 10 images.)
 *
 * N images (default 50) of 3 distinct random 1 MiB layers are pushed to a
 * loopback docker-registry, which is then only reached through a userspace
 * latency proxy (bench/support/latency-proxy.ts: every chunk either way is
 * delayed RTT/2, a new connection pays one RTT for its handshake). Each
 * contestant copies all N images into a FRESH mirror (a new docker-registry,
 * not behind the proxy):
 *  (a) ferry with its DEFAULT settings, the way the worker role copies: a real
 *      `ferry worker` process (src/cli/main.ts, a fresh redis-server), the jobs
 *      enqueued through the Producer as the webhook does; timed from the first
 *      enqueue to the last `mirrored` state event. The config sets only what is
 *      needed to reach the registries (queue.redisUrl, mirror.registry, the
 *      upstream host entry, dashboard.port 0 so the ops port is free): no
 *      concurrency or request-budget tuning. It is printed.
 *  (b) `skopeo copy` one image after another;
 *  (c) `skopeo copy`, 8 at a time.
 * Ratios: loop / ferry (target >= 5x), skopeo-x8 / ferry (target >= 1.3x).
 * Upstream requests and connections per image are counted at the proxy.
 * `--ferry-override '{"copy":{"requestsPerSecond":0}}'` (repeatable) adds a
 * diagnostic ferry run with that config merged in, clearly labelled and left
 * out of the ratios: to see what a setting costs, not what users get.
 * Every mirror is checked against the upstream digests. Printed as a table and
 * written to bench/out/far-upstream.json.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { connectRedis, createQueue, decodeEvent, ImageStore, Producer } from '../../src/queue/index.js';
import { toMirrorReference } from '../../src/reference/mirror.js';
import { buildImage, pushImage } from '../../test/support/images.js';
import { startRedis } from '../../test/support/redis.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { cleanEnv, runFerry, startFerry } from '../../test/cli/support/ferry-process.js';
import { startLatencyProxy, type LatencyProxy } from '../support/latency-proxy.js';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    'rtt-ms': { type: 'string', default: '50' },
    images: { type: 'string' },
    quick: { type: 'boolean', default: false },
    // diagnostics only: an extra ferry contestant with this config merged in (NOT defaults; not in the ratios). Repeatable.
    'ferry-override': { type: 'string', multiple: true, default: [] },
  },
});
const OVERRIDES = args['ferry-override']!.map((j) => JSON.parse(j) as Record<string, Record<string, unknown>>);
const RTTS = args['rtt-ms']!.split(',').map(Number).filter((x) => x > 0);
const N = Number(args.images ?? (args.quick ? 10 : 50));
const SKOPEO_PARALLEL = 8;
const MiB = 1024 * 1024;
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function inBatches<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** One GET of `path` on `agent` (a fresh connection when the agent has none idle); ms. */
function timedGet(host: string, path: string, agent: Agent): Promise<number> {
  const [h, p] = host.split(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: h, port: Number(p), path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Self-check of the proxy: a GET on a new connection >= 2 RTT (handshake + exchange), a second on the same one >= 1 RTT. */
async function checkProxy(proxy: LatencyProxy): Promise<{ firstMs: number; secondMs: number; ok: boolean }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const firstMs = await timedGet(proxy.host, '/v2/', agent);
    const secondMs = await timedGet(proxy.host, '/v2/', agent);
    const rtt = proxy.rttMs;
    const ok = firstMs >= 2 * rtt && secondMs >= rtt && secondMs < rtt + Math.max(50, rtt);
    return { firstMs, secondMs, ok };
  } finally {
    agent.destroy();
  }
}

/** Digest the registry at `host` serves for `repo:tag` (HEAD, not through the proxy). */
async function servedDigest(host: string, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json' },
  });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

interface Image {
  repo: string;
  tag: string;
  layout: string;
  digest: string;
}

interface Result {
  name: string;
  ms: number;
  failed: number;
  mismatches: number;
  upstreamRequests: number;
  upstreamConnections: number;
  upstreamKinds: Record<string, number>;
  note?: string;
}

/** Copies every image into `mirror` and checks the digests there. */
async function verify(mirror: TestRegistry, images: Image[], repoOf: (im: Image) => string): Promise<number> {
  let bad = 0;
  await inBatches(images, 8, async (im) => {
    if ((await servedDigest(mirror.host, repoOf(im), im.tag)) !== im.digest) bad++;
  });
  return bad;
}

const cleanups: (() => Promise<void> | void)[] = [];
const work = mkdtempSync(join(tmpdir(), 'ferry-bench-far-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));
const out: Record<string, unknown> = { images: N, layersPerImage: 3, layerBytes: MiB, skopeoParallel: SKOPEO_PARALLEL, byRtt: {} };
try {
  try {
    out.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    out.diffStat = execFileSync('git', ['diff', '--stat'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  const upstream = await startRegistry();
  cleanups.push(() => upstream.stop());

  // ---- setup (not timed): images pushed straight to the upstream, not through the proxy
  log(`building and pushing ${N} images (3 x 1 MiB distinct random layers each)...`);
  const b0 = performance.now();
  const images: Image[] = Array.from({ length: N }, (_, i) => ({ repo: `bench/img${i}`, tag: '1', layout: join(work, `l${i}`), digest: '' }));
  for (const im of images) im.digest = buildImage(im.layout, { tag: im.tag, layerSizes: [MiB, MiB, MiB] }).digest;
  await inBatches(images, 4, (im) => pushImage(im.layout, im.tag, `${upstream.host}/${im.repo}:${im.tag}`));
  log(`  done in ${fmt(performance.now() - b0)}`);

  const rows: [string, string, string][] = [];
  for (const rtt of RTTS) {
    const proxy = await startLatencyProxy(upstream.host, rtt);
    const check = await checkProxy(proxy);
    log(`rtt ${rtt} ms: proxy self-check GET /v2/ new connection ${check.firstMs.toFixed(1)} ms (>= ${2 * rtt}), reused ${check.secondMs.toFixed(1)} ms (>= ${rtt}): ${check.ok ? 'ok' : 'FAILED'}`);
    if (!check.ok) throw new Error('latency proxy self-check failed');
    const refOf = (im: Image) => `${proxy.host}/${im.repo}:${im.tag}`;
    const results: Result[] = [];
    const timedProxy = async (fn: () => Promise<{ failed: number }>) => {
      proxy.resetStats();
      const t0 = performance.now();
      const r = await fn();
      const ms = performance.now() - t0;
      return { ms, failed: r.failed, ...proxy.stats() };
    };

    // ---- (a) ferry worker, defaults (then any diagnostic overrides)
    const ferryRun = async (override: Record<string, Record<string, unknown>> | undefined): Promise<Result> => {
      const [mirror, redis] = await Promise.all([startRegistry(), startRedis()]);
      try {
        const base: Record<string, Record<string, unknown>> = {
          queue: { redisUrl: redis.url },
          mirror: { registry: mirror.host, insecure: true },
          registries: { [proxy.host]: { insecure: true } },
          dashboard: { port: 0 },
        };
        const config = { ...base };
        for (const [k, v] of Object.entries(override ?? {})) config[k] = { ...config[k], ...v };
        const file = join(work, `ferry-${rtt}-${Math.random().toString(36).slice(2, 8)}.yaml`);
        writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
        const env = cleanEnv();
        const effective = await runFerry(['check-config', '--config', file], env);
        if (effective.code !== 0) throw new Error(`check-config failed:\n${effective.stderr}`);
        const eff = JSON.parse(effective.stdout) as { queue: Record<string, unknown>; copy: Record<string, unknown> };
        if (!override) {
          out.ferryConfig = config;
          out.ferryEffective = { queue: { concurrency: eff.queue.concurrency, maxAttempts: eff.queue.maxAttempts }, copy: eff.copy };
        }
        const ferry = startFerry(['worker', '--config', file, '--log-format', 'json'], env);
        cleanups.push(async () => void (await ferry.stop()));
        await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), 'ferry is up');

        const conn = connectRedis(redis.url);
        const sub = connectRedis(redis.url);
        const store = new ImageStore(conn, 'ferry');
        const queue = createQueue(conn, 'ferry');
        const producer = new Producer({ store, queue, maxAttempts: () => 8, bufferLimit: 10_000 });
        const mirrorRefOf = (im: Image) => toMirrorReference(refOf(im), { registry: mirror.host, prefix: '' });
        const pending = new Set(images.map(refOf));
        let failed = 0;
        const finishedAt: number[] = [];
        const allDone = new Promise<void>((resolve) => {
          sub.on('message', (_c: string, m: string) => {
            const ev = decodeEvent(m);
            if (ev?.type !== 'state' || !pending.has(ev.ref)) return;
            if (ev.record.state === 'error') {
              failed++;
              log(`  ferry error: ${ev.ref}: ${ev.record.lastError}`);
            }
            if (ev.record.state === 'mirrored' || ev.record.state === 'error') {
              pending.delete(ev.ref);
              finishedAt.push(performance.now());
              if (pending.size === 0) resolve();
            }
          });
        });
        await sub.subscribe(store.k.events);
        let t0 = 0;
        const r = await timedProxy(async () => {
          t0 = performance.now();
          for (const im of images) producer.enqueue({ ref: refOf(im), mirrorRef: mirrorRefOf(im), source: 'api' });
          await allDone;
          return { failed };
        });
        const firstDone = finishedAt.length ? finishedAt[0]! - t0 : 0;
        await Promise.all([producer.close(), queue.close()]);
        for (const c of [conn, sub]) c.disconnect();
        const code = await ferry.stop();
        const warnings = ferry.logs.filter((l) => Number(l.level) >= 40).length;
        // the mirror path of `host:port/bench/imgN` under mirror.registry
        const mirrorRepo = (im: Image) => mirrorRefOf(im).slice(mirror.host.length + 1).replace(/:[^:/]+$/, '');
        const mismatches = await verify(mirror, images, mirrorRepo);
        const name = override ? `ferry worker, NOT DEFAULT: ${JSON.stringify(override)}` : 'ferry worker (defaults)';
        log(`  ${name}: ${fmt(r.ms)} (${r.requests} upstream requests, ${r.connections} connections)`);
        return {
          name,
          ms: r.ms,
          failed: r.failed,
          mismatches,
          upstreamRequests: r.requests,
          upstreamConnections: r.connections,
          upstreamKinds: r.kinds,
          note: `first image done after ${fmt(firstDone)}; ${warnings} warn/error log lines; exit ${code}`,
        };
      } finally {
        await Promise.all([mirror.stop(), redis.stop()]);
      }
    };
    results.push(await ferryRun(undefined));

    // ---- (b) sequential skopeo, (c) skopeo x8
    for (const parallel of [1, SKOPEO_PARALLEL]) {
      const mirror = await startRegistry();
      try {
        let failed = 0;
        const r = await timedProxy(async () => {
          await inBatches(images, parallel, async (im) => {
            try {
              await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${refOf(im)}`, `docker://${mirror.host}/${im.repo}:${im.tag}`], { maxBuffer: 16 * MiB });
            } catch (e) {
              failed++;
              log(`  skopeo error: ${refOf(im)}: ${String((e as { stderr?: string }).stderr ?? e).slice(0, 300)}`);
            }
          });
          return { failed };
        });
        const mismatches = await verify(mirror, images, (im) => im.repo);
        const name = parallel === 1 ? 'skopeo copy, sequential loop' : `skopeo copy, ${parallel} at a time`;
        results.push({ name, ms: r.ms, failed: r.failed, mismatches, upstreamRequests: r.requests, upstreamConnections: r.connections, upstreamKinds: r.kinds });
        log(`  ${name}: ${fmt(r.ms)} (${r.requests} upstream requests, ${r.connections} connections)`);
      } finally {
        await mirror.stop();
      }
    }
    // diagnostics: ferry with settings changed (after the default run, so they cannot warm anything for it)
    for (const o of OVERRIDES) results.push(await ferryRun(o));
    await proxy.close();

    const ferry = results[0]!;
    const loop = results[1]!;
    const x8 = results[2]!;
    const vsLoop = loop.ms / ferry.ms;
    const vsX8 = x8.ms / ferry.ms;
    (out.byRtt as Record<string, unknown>)[String(rtt)] = { proxyCheck: check, results, ratioLoopOverFerry: vsLoop, ratioX8OverFerry: vsX8 };
    for (const r of results) {
      rows.push([
        `rtt ${rtt} ms: ${r.name}`,
        `${fmt(r.ms).padStart(9)}  ${(r.ms / N).toFixed(0).padStart(5)} ms/image  ${((N * 3) / (r.ms / 1000)).toFixed(1).padStart(6)} MiB/s`,
        `${(r.upstreamRequests / N).toFixed(1)} upstream req/image, ${(r.upstreamConnections / N).toFixed(2)} conn/image; failed ${r.failed}, mismatches ${r.mismatches}${r.note ? `; ${r.note}` : ''}`,
      ]);
      const kinds = Object.entries(r.upstreamKinds).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join(', ');
      rows.push([`    upstream requests per image`, '', kinds]);
    }
    rows.push([`rtt ${rtt} ms: ratio loop / ferry`, `${vsLoop.toFixed(2)}x`, vsLoop >= 5 ? 'PASS (>= 5x)' : 'MISS (>= 5x)']);
    rows.push([`rtt ${rtt} ms: ratio skopeo x${SKOPEO_PARALLEL} / ferry`, `${vsX8.toFixed(2)}x`, vsX8 >= 1.3 ? 'PASS (>= 1.3x)' : 'MISS (>= 1.3x)']);
    if (results.some((r) => r.failed || r.mismatches)) process.exitCode = 1;
  }

  // ---- report
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\nferry far-upstream bench — ${N} images x 3 x 1 MiB through a latency proxy, fresh mirror per contestant; commit ${out.commit ?? '?'}${out.diffStat ? ' + uncommitted changes' : ''}; ${availableParallelism()} CPUs, load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`ferry config (everything else is a default): ${JSON.stringify(out.ferryConfig)}`);
  console.log(`ferry effective queue/copy settings: ${JSON.stringify(out.ferryEffective)}\n`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2]}`);
  mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
  writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'far-upstream.json'), JSON.stringify(out, null, 2));
} finally {
  for (const c of cleanups.reverse()) await c();
}
