/**
 * CLI start-up benchmark: `node --import tsx bench/cli-start/run.ts [--runs N] [--no-build]`
 *
 * What a user waits for, process start included: the median of N runs of
 *  (1) `node dist/cli/main.js --help`           (target < 0.2 s)
 *  (2) `node dist/cli/main.js check-config`     (default config, no file)
 *  (3) `ferry copy` of the copy bench's 256 MiB / 8-layer image into a fresh
 *      mirror vs `skopeo copy` of the same, side by side (alternating, a new
 *      destination registry for each run)  (target ferry/skopeo <= 0.9)
 * `node` itself (`node -e 0`) is timed too, as the floor. Each copy's CPU is
 * accounted (cpu.ts): the client's user + sys, the destination's and the
 * source registry's, and the load average — on 2 shared cores the copy is
 * CPU-bound, and its wall time follows the sum of the three, not the client's
 * alone. ferry runs with its DEFAULT settings: no config file, no FERRY_*
 * variable (loopback registries are plain HTTP by default, nothing is needed
 * to reach them). dist/ is built
 * first (`tsc -p tsconfig.json`) unless --no-build. Printed as a table and
 * written to bench/out/cli-start.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildBigImage, median, MiB, pushImage, startRegistry, withFreshRegistry } from '../copy/lib.js';
import { loadNow, processCpuMs, reapedChildrenCpuMs } from './cpu.js';

const argv = process.argv.slice(2);
const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) || 7 : 7;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** The children's environment: this one without FERRY_* (defaults) and without NODE_OPTIONS (no tsx in the children). */
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_') && k !== 'NODE_OPTIONS'));

/** Wall time and CPU (user + sys) of one child process, spawn to exit. Throws on a non-zero exit. */
async function timeChild(cmd: string, args: string[]): Promise<{ ms: number; cpuMs: number; stdout: string }> {
  const cpu0 = reapedChildrenCpuMs();
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const ms = performance.now() - t0;
  const cpuMs = reapedChildrenCpuMs() - cpu0;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  return { ms, cpuMs, stdout };
}

async function medianOf(name: string, cmd: string, args: string[]): Promise<{ times: number[]; median: number }> {
  await timeChild(cmd, args); // warm-up: page cache
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await timeChild(cmd, args)).ms);
  log(`  ${name}: ${times.map(fmt).join(', ')}`);
  return { times, median: median(times) };
}

if (!argv.includes('--no-build')) {
  log('building dist/ (tsc -p tsconfig.json)...');
  const b = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('tsc failed');
}

const out: Record<string, unknown> = { runs };
const src = await startRegistry();
const cleanups: (() => void)[] = [];
try {
  // ------------------------------------------------------------ (1) (2)
  log(`start-up, median of ${runs} (after one untimed run each)...`);
  const node = await medianOf('node -e 0', process.execPath, ['-e', '0']);
  const help = await medianOf('--help', process.execPath, [MAIN, '--help']);
  const check = await medianOf('check-config', process.execPath, [MAIN, 'check-config']);
  out.start = { node, help, checkConfig: check };

  // ------------------------------------------------------------ (3)
  log('building 256 MiB image (8 x 32 MiB)...');
  const big = await buildBigImage({ layers: 8, layerSize: 32 * MiB });
  cleanups.push(() => rmSync(big.layout, { recursive: true, force: true }));
  const SRC = `${src.host}/bench/src:v1`;
  await pushImage(big.layout, big.tag, SRC);
  type Timed = { ms: number; inProcessMs: number | undefined; cpu: CopyCpu };
  /** CPU (ms) one copy cost: the client process, the fresh destination registry (its start-up excluded), the source registry; load at the start. */
  type CopyCpu = { client: number; dstRegistry: number; srcRegistry: number; load: number };
  const methods: Record<'ferry' | 'skopeo', (dst: string) => Promise<{ ms: number; cpuMs: number; inProcessMs: number | undefined }>> = {
    ferry: async (dst: string) => {
      const r = await timeChild(process.execPath, [MAIN, 'copy', SRC, dst]);
      const res = JSON.parse(r.stdout) as { blobsCopied: number; ms: number };
      if (res.blobsCopied !== big.layers + 1) throw new Error(`ferry copy moved ${res.blobsCopied} blobs, expected ${big.layers + 1}`);
      return { ms: r.ms, cpuMs: r.cpuMs, inProcessMs: res.ms };
    },
    skopeo: async (dst: string) => {
      const r = await timeChild('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${SRC}`, `docker://${dst}`]);
      return { ms: r.ms, cpuMs: r.cpuMs, inProcessMs: undefined };
    },
  };
  const copyTimes: Record<keyof typeof methods, number[]> = { ferry: [], skopeo: [] };
  const copyCpu: Record<keyof typeof methods, CopyCpu[]> = { ferry: [], skopeo: [] };
  const ferryInProcess: number[] = [];
  const once = (m: keyof typeof methods) =>
    withFreshRegistry<Timed>(async (dst) => {
      const load = loadNow();
      const dst0 = processCpuMs(dst.child.pid);
      const src0 = processCpuMs(src.child.pid);
      const r = await methods[m](`${dst.host}/bench/dst:v1`);
      const cpu = { client: r.cpuMs, dstRegistry: processCpuMs(dst.child.pid) - dst0, srcRegistry: processCpuMs(src.child.pid) - src0, load };
      return { ms: r.ms, inProcessMs: r.inProcessMs, cpu };
    });
  log('copy warm-up (untimed)...');
  await once('ferry');
  await once('skopeo');
  for (let r = 0; r < runs; r++) {
    for (const m of r % 2 ? (['skopeo', 'ferry'] as const) : (['ferry', 'skopeo'] as const)) {
      const { ms, inProcessMs, cpu } = await once(m);
      copyTimes[m].push(ms);
      copyCpu[m].push(cpu);
      if (inProcessMs !== undefined) ferryInProcess.push(inProcessMs);
      const cpuText = `cpu: client ${fmt(cpu.client)}, dst registry ${fmt(cpu.dstRegistry)}, src registry ${fmt(cpu.srcRegistry)}; load ${cpu.load.toFixed(1)}`;
      log(`  run ${r + 1} ${m}: ${fmt(ms)}${inProcessMs !== undefined ? ` (copy itself ${fmt(inProcessMs)})` : ''}  ${cpuText}`);
    }
  }
  const ferry = median(copyTimes.ferry);
  const skopeo = median(copyTimes.skopeo);
  const inProc = median(ferryInProcess);
  // each run's pair ran back to back: their ratio cancels load that drifts between runs
  const pairRatio = median(copyTimes.ferry.map((f, i) => f / copyTimes.skopeo[i]!));
  const cpuMedians = (m: keyof typeof methods) => {
    const c = copyCpu[m];
    return { client: median(c.map((x) => x.client)), dstRegistry: median(c.map((x) => x.dstRegistry)), srcRegistry: median(c.map((x) => x.srcRegistry)), all: median(c.map((x) => x.client + x.dstRegistry + x.srcRegistry)) };
  };
  const cpuMed = { ferry: cpuMedians('ferry'), skopeo: cpuMedians('skopeo') };
  const loads = [...copyCpu.ferry, ...copyCpu.skopeo].map((x) => x.load);
  out.copy = { pairRatio, bytes: big.bytes, times: copyTimes, cpu: copyCpu, cpuMedians: cpuMed, ferryInProcess, medianFerryMs: ferry, medianSkopeoMs: skopeo, medianFerryInProcessMs: inProc, ratio: ferry / skopeo };

  // ------------------------------------------------------------ report
  const pass = (ok: boolean, target: string) => `${ok ? 'PASS' : 'MISS'} (${target})`;
  const rows: [string, string, string][] = [
    ['node -e 0 (the floor)', fmt(node.median), ''],
    ['ferry --help', fmt(help.median), pass(help.median < 200, '< 0.2 s')],
    ['ferry check-config (defaults)', fmt(check.median), ''],
    [`ferry copy, 256 MiB / ${big.layers} layers, fresh mirror`, `${fmt(ferry)}  (${(big.bytes / MiB / (ferry / 1000)).toFixed(0)} MiB/s)`, `min ${fmt(Math.min(...copyTimes.ferry))}`],
    ['  of which the copy itself (its "ms")', fmt(inProc), `start + exit ${fmt(ferry - inProc)}`],
    ['skopeo copy, same image, fresh mirror', `${fmt(skopeo)}  (${(big.bytes / MiB / (skopeo / 1000)).toFixed(0)} MiB/s)`, `min ${fmt(Math.min(...copyTimes.skopeo))}`],
    ['ratio ferry/skopeo (process start included)', (ferry / skopeo).toFixed(3), pass(ferry / skopeo <= 0.9, '<= 0.9')],
    ['  median of the per-run ratios (pairs run back to back)', pairRatio.toFixed(3), pass(pairRatio <= 0.9, '<= 0.9')],
    ...(['ferry', 'skopeo'] as const).map((m): [string, string, string] => [
      `CPU per copy, ${m}: client / dst registry / src registry`,
      `${fmt(cpuMed[m].client)} / ${fmt(cpuMed[m].dstRegistry)} / ${fmt(cpuMed[m].srcRegistry)}`,
      `all ${fmt(cpuMed[m].all)}`,
    ]),
    ['  CPU ratio ferry/skopeo, all three processes', (cpuMed.ferry.all / cpuMed.skopeo.all).toFixed(3), `load avg during the copies ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\nferry CLI start-up bench — medians of ${runs} run(s) after a warm-up, copies side by side; ${cpus().length} CPUs, load avg ${load}\n`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2]}`);
  mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
  writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'cli-start.json'), JSON.stringify(out, null, 2));
} finally {
  await src.stop();
  for (const c of cleanups) c();
}
