/**
 * Referrers benchmark: `node --import tsx bench/referrers/run.ts [--runs N] [--mib M]`
 * (or BENCH_REFERRERS_MIB=M; default 256 = 8 x 32 MiB layers, the copy bench image).
 *
 * The image is signed upstream as cosign and OCI 1.1 tools do it: a `.sig`
 * tag, an SBOM referrer (subject, listed in the `sha256-<hex>` fallback tag:
 * registry:2 has no referrers API) and a `.sig` of the SBOM. What the worker
 * does per copy is measured with the engine's request counting
 * (src/registry/request-count.ts):
 *  (1) registry requests per image: the copy into a fresh mirror, with and
 *      without `copyReferrers` after it; an up-to-date re-copy, with and
 *      without; an unsigned image (the cost of looking).
 *  (2) copy time of the image with `copy.referrers` on vs off, side by side
 *      in one run, alternating, a fresh engine and destination registry each;
 *      medians, ratio on/off (target <= 1.05). "On" is the worker's own code
 *      path (src/worker/referrer-step.ts): the referrer step starts from the
 *      copy's `admit` hook, runs alongside the blob transfer, takes the
 *      children once the copy returns, and is awaited.
 * Printed as a table and written to bench/out/referrers.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { RegistryEngine } from '../../src/registry/index.js';
import { countRequests } from '../../src/registry/request-count.js';
import { ReferrerStep } from '../../src/worker/referrer-step.js';
import { cosignSignature, fetchManifest, keyPair, pushArtifact, sbomArtifact } from '../../test/support/supply-chain.js';
import { benchConfig, buildBigImage, median, MiB, pushImage, startRegistry, withFreshRegistry } from '../copy/lib.js';

const argv = process.argv.slice(2);
const arg = (name: string) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : undefined);
const runs = arg('--runs') || 5;
const mib = arg('--mib') || Number(process.env.BENCH_REFERRERS_MIB) || 256;
const layers = mib >= 8 ? 8 : 1;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Signs `repo@digest` upstream: `.sig`, SBOM (fallback tag), `.sig` of the SBOM. Returns the referrer count (3). */
async function sign(host: string, repo: string, digest: string): Promise<number> {
  const key = keyPair('ecdsa-p256');
  const top = (await fetchManifest(host, repo, digest))!;
  const tagOf = (d: string) => d.replace(':', '-');
  await pushArtifact(host, repo, cosignSignature(top.digest, `${host}/${repo}`, key.privateKey), `${tagOf(top.digest)}.sig`);
  const sbom = sbomArtifact({ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length });
  await pushArtifact(host, repo, sbom);
  const fallback = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: sbom.mediaType, digest: sbom.manifestDigest, size: sbom.manifest.length, artifactType: 'application/spdx+json' }],
    }),
  );
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tagOf(top.digest)}`, { method: 'PUT', body: new Uint8Array(fallback), headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`fallback tag PUT: ${res.status}`);
  await pushArtifact(host, repo, cosignSignature(sbom.manifestDigest, `${host}/${repo}`, key.privateKey), `${tagOf(sbom.manifestDigest)}.sig`);
  return 3;
}

/**
 * What the worker does for one image (processor.ts, default config): the copy,
 * with (on) the referrer step started when the copy admits the source digest
 * and finished with the digests the copy moved. `refsMs`: admission to the
 * step's end (it waits for the copy's children, so about the copy's time);
 * `tailMs`: what it added after the copy returned.
 */
async function workerCopy(engine: RegistryEngine, src: string, dst: string, referrers: boolean) {
  const { value, requests } = await countRequests(async () => {
    if (!referrers) return { copy: await engine.copy({ src, dst }), refs: undefined, refsMs: 0, tailMs: 0 };
    const step = new ReferrerStep(engine, { src, dst });
    let started = 0;
    let r;
    try {
      r = await engine.copy({
        src,
        dst,
        admit: (digest) => {
          started = performance.now();
          step.start(digest);
        },
      });
    } catch (e) {
      await step.abandon();
      throw e;
    }
    const t1 = performance.now();
    const refs = await step.finish(r);
    const t2 = performance.now();
    return { copy: r, refs, refsMs: t2 - (started || t1), tailMs: t2 - t1 };
  });
  // copyReferrers counts its own requests (a nested counter): add them
  return { ...value, requests: requests + (value.refs?.requests ?? 0) };
}

const src = await startRegistry();
const out: Record<string, unknown> = { runs, mib };
const cleanups: (() => void)[] = [];
try {
  log(`building ${mib} MiB image (${layers} x ${(mib / layers).toFixed(0)} MiB)...`);
  const big = await buildBigImage({ layers, layerSize: Math.round((mib / layers) * MiB) });
  cleanups.push(() => rmSync(big.layout, { recursive: true, force: true }));
  await pushImage(big.layout, big.tag, `${src.host}/bench/signed:v1`);
  await pushImage(big.layout, big.tag, `${src.host}/bench/unsigned:v1`);
  const expected = await sign(src.host, 'bench/signed', big.digest);
  const SRC = `${src.host}/bench/signed:v1`;

  // ------------------------------------------------------------ (1) requests
  const reqs: Record<string, number> = {};
  for (const on of [false, true]) {
    await withFreshRegistry(async (dst) => {
      const engine = new RegistryEngine({ config: benchConfig({ platforms: [] }) });
      try {
        const first = await workerCopy(engine, SRC, `${dst.host}/bench/signed:v1`, on);
        if (on && first.refs?.copied !== expected) throw new Error(`expected ${expected} referrers copied, got ${first.refs?.copied}`);
        const again = await workerCopy(engine, SRC, `${dst.host}/bench/signed:v1`, on);
        if (!again.copy.upToDate) throw new Error('expected upToDate');
        const uns = await workerCopy(engine, `${src.host}/bench/unsigned:v1`, `${dst.host}/bench/unsigned:v1`, on);
        const k = on ? 'on' : 'off';
        reqs[`signed image, fresh mirror, referrers ${k}`] = first.requests;
        reqs[`signed image, up-to-date re-copy, referrers ${k}`] = again.requests;
        reqs[`unsigned image (blobs already in the mirror), referrers ${k}`] = uns.requests;
        if (on) {
          reqs['  of which copyReferrers (fresh, signed)'] = first.refs!.requests;
          reqs['  of which copyReferrers (up to date, signed)'] = again.refs!.requests;
          reqs['  of which copyReferrers (unsigned)'] = uns.refs!.requests;
        }
      } finally {
        await engine.close();
      }
    });
  }
  out.requests = reqs;

  // ------------------------------------------------------------ (2) time
  const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const refsTimes: number[] = [];
  const tailTimes: number[] = [];
  const once = (on: boolean) =>
    withFreshRegistry(async (dst) => {
      const engine = new RegistryEngine({ config: benchConfig({ platforms: [] }) });
      try {
        const t0 = performance.now();
        const r = await workerCopy(engine, SRC, `${dst.host}/bench/signed:v1`, on);
        const ms = performance.now() - t0;
        if (on) {
          refsTimes.push(r.refsMs);
          tailTimes.push(r.tailMs);
        }
        return ms;
      } finally {
        await engine.close();
      }
    });
  log('warm-up (untimed)...');
  await once(false);
  await once(true);
  refsTimes.length = 0;
  tailTimes.length = 0;
  for (let r = 0; r < runs; r++) {
    for (const on of r % 2 ? [true, false] : [false, true]) {
      const ms = await once(on);
      times[on ? 'on' : 'off'].push(ms);
      log(`  run ${r + 1} referrers ${on ? 'on' : 'off'}: ${fmt(ms)}`);
    }
  }
  const on = median(times.on);
  const off = median(times.off);
  out.time = { bytes: big.bytes, times, refsTimes, medianOnMs: on, medianOffMs: off, medianReferrersMs: median(refsTimes), tailTimes, medianReferrersTailMs: median(tailTimes), ratio: on / off };

  // ------------------------------------------------------------ report
  const rows: [string, string, string][] = [];
  for (const [k, v] of Object.entries(reqs)) rows.push([`(1) requests: ${k}`, String(v), '']);
  rows.push([`(2) ${mib} MiB copy, copy.referrers off (median of ${runs})`, `${fmt(off)}  (${(big.bytes / MiB / (off / 1000)).toFixed(0)} MiB/s)`, `min ${fmt(Math.min(...times.off))}`]);
  rows.push([`(2) ${mib} MiB copy, copy.referrers on (median of ${runs})`, `${fmt(on)}  (${(big.bytes / MiB / (on / 1000)).toFixed(0)} MiB/s)`, `min ${fmt(Math.min(...times.on))}`]);
  rows.push(['(2) referrer step after the copy returned (median)', `${median(tailTimes).toFixed(0)} ms`, '']);
  rows.push(['(2) ratio on/off', (on / off).toFixed(3), on / off <= 1.05 ? 'PASS (<= 1.05)' : 'MISS (<= 1.05)']);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\nferry referrers bench — signed image (.sig + SBOM referrer + SBOM .sig), ${runs} run(s) each side by side after a warm-up; ${cpus().length} CPUs, load avg ${load}\n`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2]}`);
  mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
  writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'referrers.json'), JSON.stringify(out, null, 2));
} finally {
  await src.stop();
  for (const c of cleanups) c();
}
