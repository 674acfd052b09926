/**
 * Where the CPU of one CLI copy goes (issue 14 investigation):
 * `node --import tsx bench/cli-start/where.ts [--runs N] [--strace]`
 * Alternates `ferry copy` (dist/, default settings) and `skopeo copy` of the
 * cli-start bench image into a fresh mirror, printing per-process CPU (client,
 * dst registry, src registry) per run and medians. With --strace, each
 * registry is attached with `strace -c -f` for one run of each client.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBigImage, median, MiB, pushImage, startRegistry, withFreshRegistry } from '../copy/lib.js';
import { processCpuMs, reapedChildrenCpuMs } from './cpu.js';

const argv = process.argv.slice(2);
const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) || 5 : 5;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_') && k !== 'NODE_OPTIONS'));
const extra = process.env.WHERE_FERRY_ARGS ? process.env.WHERE_FERRY_ARGS.split(' ') : [];

/** --timeline: every 100 ms, the CPU (ms) each process used in that slice: how busy the start, the bytes and the tail are. */
let watch: { dst: number; src: number } | undefined;
function runChild(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    if (watch) {
      const w = watch;
      let last = [0, processCpuMs(w.dst), processCpuMs(w.src)];
      const t0 = performance.now();
      const line: string[] = [];
      const timer = setInterval(() => {
        const now = [processCpuMs(c.pid), processCpuMs(w.dst), processCpuMs(w.src)];
        if (Number.isNaN(now[0])) return;
        line.push(`${((performance.now() - t0) / 1000).toFixed(1)}s c${now[0]! - last[0]!} d${now[1]! - last[1]!} s${now[2]! - last[2]!}`);
        last = now;
      }, 100);
      c.once('close', () => {
        clearInterval(timer);
        console.log(`${cmd.split('/').pop()}: ${line.join(' | ')}`);
      });
    }
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

const nodeArgs = process.env.WHERE_NODE_ARGS ? process.env.WHERE_NODE_ARGS.split(' ') : [];
/** WHERE_TIME=1: each client under /usr/bin/time, for its user/sys split. */
function wrap(cmd: string, args: string[] = []): [string, string[]] {
  if (process.env.WHERE_STRACE) return ['strace', ['-f', '-ttt', '-e', 'trace=execve,connect,exit_group', '-o', `/tmp/where-tl-${cmd.split('/').pop()}.txt`, cmd, ...args]];
  return process.env.WHERE_TIME ? ['/usr/bin/time', ['-f', `${cmd.split('/').pop()} user %U sys %S`, cmd, ...args]] : [cmd, args];
}
const src = await startRegistry();
// --small: 8 layers of 4 KiB, to see the fixed cost (start, round trips, exit) apart from the bytes
const big = await buildBigImage({ layers: 8, layerSize: argv.includes('--small') ? 4096 : 32 * MiB });
const SRC = `${src.host}/bench/src:v1`;
await pushImage(big.layout, big.tag, SRC);
const clients = {
  ferry: (dst: string) => runChild(...wrap(process.execPath, [...nodeArgs, MAIN, ...extra, 'copy', SRC, dst])),
  skopeo: (dst: string) => runChild(...wrap('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${SRC}`, `docker://${dst}`])),
};
type Row = { wall: number; client: number; dst: number; src: number };
const rows: Record<string, Row[]> = { ferry: [], skopeo: [] };
async function once(m: keyof typeof clients, trace: boolean): Promise<Row> {
  return withFreshRegistry(async (dst) => {
    const tracers = trace
      ? [dst.child.pid!, src.child.pid!].map((pid, i) => spawn('strace', ['-c', '-f', '-p', String(pid), '-o', `/tmp/where-${m}-${i ? 'src' : 'dst'}.txt`], { stdio: 'ignore' }))
      : [];
    if (trace) await new Promise((r) => setTimeout(r, 500)); // strace attach (bench-only, no event to await)
    if (argv.includes('--timeline')) watch = { dst: dst.child.pid!, src: src.child.pid! };
    const c0 = reapedChildrenCpuMs();
    const d0 = processCpuMs(dst.child.pid);
    const s0 = processCpuMs(src.child.pid);
    const t0 = performance.now();
    await clients[m](`${dst.host}/bench/dst:v1`);
    const row = { wall: performance.now() - t0, client: reapedChildrenCpuMs() - c0, dst: processCpuMs(dst.child.pid) - d0, src: processCpuMs(src.child.pid) - s0 };
    for (const t of tracers) {
      t.kill('SIGINT');
      await new Promise((r) => t.once('close', r));
    }
    return row;
  });
}
const f = (x: number) => (x / 1000).toFixed(3);
try {
  if (argv.includes('--strace')) {
    for (const m of ['ferry', 'skopeo'] as const) await once(m, true);
    console.log('strace summaries in /tmp/where-{ferry,skopeo}-{dst,src}.txt');
  }
  await once('ferry', false);
  await once('skopeo', false);
  for (let r = 0; r < runs; r++) {
    for (const m of r % 2 ? (['skopeo', 'ferry'] as const) : (['ferry', 'skopeo'] as const)) {
      const row = await once(m, false);
      rows[m]!.push(row);
      console.log(`run ${r + 1} ${m.padEnd(6)} wall ${f(row.wall)}  client ${f(row.client)}  dst ${f(row.dst)}  src ${f(row.src)}  all ${f(row.client + row.dst + row.src)}`);
    }
  }
  for (const m of ['ferry', 'skopeo'] as const) {
    const rs = rows[m]!;
    const md = (k: keyof Row) => f(median(rs.map((x) => x[k])));
    console.log(`median ${m.padEnd(6)} wall ${md('wall')}  client ${md('client')}  dst ${md('dst')}  src ${md('src')}  all ${f(median(rs.map((x) => x.client + x.dst + x.src)))}`);
  }
} finally {
  rmSync(big.layout, { recursive: true, force: true });
  await src.stop();
}
