/**
 * Copy benchmark: `node --import tsx bench/copy/run.ts [--runs N] [--skip-1g]`
 *
 * (1) one 256 MiB image (8 x 32 MiB layers): ferry (in-process engine,
 *     layerConcurrency 4 and 8) vs `skopeo copy` vs raw curl GET|PUT (4 and 8
 *     parallel), a fresh destination registry for every run; medians and ratios
 *     ferry/skopeo (target <= 1.0) and ferry/best-raw (target <= 1.15).
 * (2) worker pool vs sequential skopeo: left to the worker bench (see lib.ts).
 * (3) re-copy of an unchanged image (target < 100 ms), warm and cold engine.
 * (4) peak RSS of a child process copying one 1 GiB layer (target < 150 MB).
 * Results are printed as a table and written to bench/out/copy.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { RegistryEngine } from '../../src/registry/index.js';
import { benchConfig, buildBigImage, cleanupBenchTemp, curlCopy, ferryCopy, median, MiB, pushImage, runWithPeakRss, skopeoCopy, startRegistry, timeIt, withFreshRegistry } from './lib.js';

const argv = process.argv.slice(2);
const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) || 5 : 5;
const skip1g = argv.includes('--skip-1g');
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (s: string) => process.stderr.write(`${s}\n`);

const src = await startRegistry();
const out: Record<string, unknown> = { runs };
const cleanups: (() => void)[] = [];
try {
  // ---------------------------------------------------------------- setup
  log('building 256 MiB image (8 x 32 MiB)...');
  const b0 = performance.now();
  const big = await buildBigImage({ layers: 8, layerSize: 32 * MiB });
  cleanups.push(() => rmSync(big.layout, { recursive: true, force: true }));
  await pushImage(big.layout, big.tag, `${src.host}/bench/src:v1`);
  log(`  built+pushed in ${fmt(performance.now() - b0)} (${(big.bytes / MiB).toFixed(1)} MiB of blobs)`);

  // ---------------------------------------------------------------- (1)
  const methods: { name: string; fn: (dstHost: string) => Promise<void> }[] = [
    { name: 'ferry engine (layerConcurrency 4)', fn: async (d) => void (await ferryCopy(`${src.host}/bench/src:v1`, `${d}/bench/dst:v1`, { layerConcurrency: 4 })) },
    { name: 'ferry engine (layerConcurrency 8)', fn: async (d) => void (await ferryCopy(`${src.host}/bench/src:v1`, `${d}/bench/dst:v1`, { layerConcurrency: 8 })) },
    { name: 'skopeo copy', fn: (d) => skopeoCopy(`${src.host}/bench/src:v1`, `${d}/bench/dst:v1`) },
    { name: 'curl GET|PUT x4', fn: (d) => curlCopy(4, src.host, 'bench/src', 'v1', d, 'bench/dst') },
    { name: 'curl GET|PUT x8', fn: (d) => curlCopy(8, src.host, 'bench/src', 'v1', d, 'bench/dst') },
  ];
  const times: Record<string, number[]> = {};
  log('warm-up round (untimed: page cache, JIT, connection setup)...');
  for (const m of methods) await withFreshRegistry((dst) => m.fn(dst.host));
  for (let r = 0; r < runs; r++) {
    // rotate the order each run so no method always runs right after another
    for (const m of [...methods.slice(r % methods.length), ...methods.slice(0, r % methods.length)]) {
      const ms = await withFreshRegistry(async (dst) => (await timeIt(() => m.fn(dst.host))).ms);
      (times[m.name] ??= []).push(ms);
      log(`  run ${r + 1} ${m.name}: ${fmt(ms)}`);
    }
  }
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const ferry = med['ferry engine (layerConcurrency 4)']!;
  const ferryBest = Math.min(ferry, med['ferry engine (layerConcurrency 8)']!);
  const skopeo = med['skopeo copy']!;
  const bestRaw = Math.min(med['curl GET|PUT x4']!, med['curl GET|PUT x8']!);
  out.part1 = { bytes: big.bytes, times, medians: med, ratioFerrySkopeo: ferry / skopeo, ratioFerryBestRaw: ferry / bestRaw };

  // ---------------------------------------------------------------- (3)
  const warm = new RegistryEngine({ config: benchConfig({ platforms: [] }) });
  const dst3 = await startRegistry();
  await warm.copy({ src: `${src.host}/bench/src:v1`, dst: `${dst3.host}/bench/dst:v1` });
  const warmTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const { ms, value } = await timeIt(() => warm.copy({ src: `${src.host}/bench/src:v1`, dst: `${dst3.host}/bench/dst:v1` }));
    if (!value.upToDate) throw new Error('expected upToDate');
    warmTimes.push(ms);
  }
  await warm.close();
  const coldTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const e = new RegistryEngine({ config: benchConfig({ platforms: [] }) });
    coldTimes.push((await timeIt(() => e.copy({ src: `${src.host}/bench/src:v1`, dst: `${dst3.host}/bench/dst:v1` }))).ms);
    await e.close();
  }
  await dst3.stop();
  out.part3 = { warmMs: warmTimes, coldMs: coldTimes, warmMedianMs: median(warmTimes), coldMedianMs: median(coldTimes) };

  // ---------------------------------------------------------------- (4)
  if (!skip1g) {
    log('building 1 GiB single-layer image...');
    const b1 = performance.now();
    const huge = await buildBigImage({ layers: 1, layerSize: 1024 * MiB });
    cleanups.push(() => rmSync(huge.layout, { recursive: true, force: true }));
    await pushImage(huge.layout, huge.tag, `${src.host}/bench/huge:v1`);
    log(`  built+pushed in ${fmt(performance.now() - b1)}`);
    const child = new URL('./child.ts', import.meta.url).pathname;
    const base = await runWithPeakRss(process.execPath, ['--import', 'tsx', child, '--baseline']);
    const r4 = await withFreshRegistry((dst) => runWithPeakRss(process.execPath, ['--import', 'tsx', child, `${src.host}/bench/huge:v1`, `${dst.host}/bench/huge:v1`]));
    if (r4.code !== 0) throw new Error(`child failed: ${r4.stderr}`);
    const res = JSON.parse(r4.stdout.trim().split('\n').pop()!);
    out.part4 = { bytes: huge.bytes, peakRssMb: r4.peakKb / 1024, baselineRssMb: base.peakKb / 1024, copyMs: res.ms, digestOk: res.digest === huge.digest };
  }

  // ---------------------------------------------------------------- report
  const rows: [string, string, string][] = [];
  const p1 = out.part1 as { medians: Record<string, number> };
  for (const [k, v] of Object.entries(p1.medians)) {
    rows.push([`(1) 256 MiB / 8 layers: ${k}`, `${fmt(v)}  (${((big.bytes / MiB) / (v / 1000)).toFixed(0)} MiB/s)`, `min ${fmt(Math.min(...times[k]!))}`]);
  }
  rows.push(['(1) ratio ferry/skopeo', (ferry / skopeo).toFixed(2), ferry / skopeo <= 1.0 ? 'PASS (<= 1.00)' : 'MISS (<= 1.00)']);
  rows.push(['(1) ratio ferry/best-raw', (ferry / bestRaw).toFixed(2), ferry / bestRaw <= 1.15 ? 'PASS (<= 1.15)' : 'MISS (<= 1.15)']);
  rows.push(['(1) ratio best-ferry/best-raw', (ferryBest / bestRaw).toFixed(2), '']);
  const p3 = out.part3 as { warmMedianMs: number; coldMedianMs: number };
  rows.push(['(3) re-copy unchanged, warm engine (median of 10)', `${p3.warmMedianMs.toFixed(1)} ms`, p3.warmMedianMs < 100 ? 'PASS (< 100 ms)' : 'MISS (< 100 ms)']);
  rows.push(['(3) re-copy unchanged, new engine (median of 5)', `${p3.coldMedianMs.toFixed(1)} ms`, p3.coldMedianMs < 100 ? 'PASS (< 100 ms)' : 'MISS (< 100 ms)']);
  if (out.part4) {
    const p4 = out.part4 as { peakRssMb: number; baselineRssMb: number; copyMs: number; bytes: number; digestOk: boolean };
    rows.push(['(4) 1 GiB layer: peak RSS of copying child', `${p4.peakRssMb.toFixed(1)} MB`, p4.peakRssMb < 150 ? 'PASS (< 150 MB)' : 'MISS (< 150 MB)']);
    rows.push(['(4) same child, engine loaded but idle', `${p4.baselineRssMb.toFixed(1)} MB`, '']);
    rows.push(['(4) 1 GiB copy time', `${fmt(p4.copyMs)}  (${((p4.bytes / MiB) / (p4.copyMs / 1000)).toFixed(0)} MiB/s)`, p4.digestOk ? 'digest ok' : 'DIGEST WRONG']);
  }
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\nferry copy bench — ${runs} run(s) each after a warm-up, fresh destination registry per run, medians; ${cpus().length} CPUs, load avg ${load}\n`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2]}`);
  mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
  writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'copy.json'), JSON.stringify(out, null, 2));
} finally {
  await src.stop();
  for (const c of cleanups) c();
  cleanupBenchTemp();
}
