/**
 * Agent import bench: a ~1 GiB docker-archive (a few large random,
 * incompressible layers) imported into a fresh test containerd by a child
 * process running `connectContainerd(...).importArchive` (what the agent does
 * for a file dropped in agent.importDir), next to `ctr -n k8s.io images
 * import` of the same file into another fresh containerd (the reference: the
 * same content store writes and unpack, done by containerd's own client).
 * Prints MB/s (archive bytes / wall time), the time ratio, and the peak RSS of
 * the importing process (VmHWM) against a 150 MB target.
 *
 *   node --import tsx bench/agent/import.ts [--size-mib 1024] [--layers 4] [--cases plain,zstd] [--runner dist|tsx]
 *
 * Needs root and /usr/bin/containerd (test/support/containerd.ts). `--runner
 * dist` (default) compiles this file and src/ with tsc into the bench's temp
 * dir and runs plain JS, as the agent runs; `tsx` adds the loader's ~35 MB.
 * The same file is the child (`--child JSON`): the parent part imports its
 * helpers dynamically, so the child loads only src/containerd.
 */
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;
const TARGET_MB = 150;
const hwmKb = (pid: number | 'self') => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

interface ChildArgs {
  socket: string;
  file: string;
}

async function childMain(args: ChildArgs): Promise<void> {
  const { connectContainerd } = await import('../../src/containerd/index.js');
  const c = connectContainerd(args.socket, { namespace: 'k8s.io', snapshotter: 'overlayfs' });
  const t0 = performance.now();
  try {
    const r = await c.importArchive(args.file);
    process.stdout.write(`${JSON.stringify({ ok: true, images: r, ms: performance.now() - t0, vmHwmKb: hwmKb('self') })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (e as Error).message, code: (e as { code?: string }).code, vmHwmKb: hwmKb('self') })}\n`);
  } finally {
    c.close();
  }
}

async function parentMain(): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { createHash } = await import('node:crypto');
  const { createWriteStream, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pipeline } = await import('node:stream/promises');
  const { Readable } = await import('node:stream');
  const { layerTar, layerTarSize, tarEntry } = await import('../support/archive-stream.js');
  const { containerdSkipReason, startContainerd } = await import('../../test/support/containerd.js');
  const { compileChild } = await import('../compile-child.js');

  const { benchOption: opt } = await import('../support/args.js');
  const sizeMiB = Number(opt('size-mib', '1024'));
  const layerCount = Number(opt('layers', '4'));
  const cases = opt('cases', 'plain,zstd').split(',');
  const runner = opt('runner', 'dist');
  const skip = containerdSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }

  const layerTarOf = (n: number, seed: number) => layerTar(n, `data/random-${seed}.bin`, seed);

  /** The docker-archive: the layers' diffIDs are computed in a first pass, then the bytes generated again while writing. */
  async function build(dir: string): Promise<{ file: string; ms: number }> {
    const t0 = performance.now();
    const per = Math.floor((sizeMiB * MiB) / layerCount);
    const diffHex: string[] = [];
    for (let i = 0; i < layerCount; i++) {
      const h = createHash('sha256');
      for await (const c of layerTarOf(per, i + 1)) h.update(c);
      diffHex.push(h.digest('hex'));
    }
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffHex.map((d) => `sha256:${d}`) } }));
    const cfgHex = createHash('sha256').update(config).digest('hex');
    const manifest = Buffer.from(JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ['bench/agent-big:latest'], Layers: diffHex.map((d) => `${d}.tar`) }]));
    const file = join(dir, 'big-docker.tar');
    await pipeline(
      Readable.from(
        (async function* () {
          for (let i = 0; i < layerCount; i++) yield* tarEntry(`${diffHex[i]}.tar`, layerTarSize(per), layerTarOf(per, i + 1));
          yield* tarEntry(`${cfgHex}.json`, config.length, config);
          yield* tarEntry('manifest.json', manifest.length, manifest);
          yield Buffer.alloc(1024);
        })(),
      ),
      createWriteStream(file),
    );
    return { file, ms: performance.now() - t0 };
  }

  /** Runs `cmd`, sampling its RSS every 50 ms (VmHWM is gone once it exits); resolves with its stdout, wall time and peak. */
  async function measured(cmd: string, args: string[]): Promise<{ out: string; ms: number; sampledPeakKb: number }> {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let peak = 0;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, hwmKb(p.pid!));
      } catch {
        /* exited */
      }
    }, 50);
    const code = await new Promise<number>((resolve) => p.on('exit', (c) => resolve(c ?? 1)));
    clearInterval(timer);
    if (code !== 0) throw new Error(`${cmd} exited with ${code}: ${out}`);
    return { out, ms: performance.now() - t0, sampledPeakKb: peak };
  }

  const dir = mkdtempSync(join(tmpdir(), 'ferry-agent-import-bench-'));
  try {
    let script = join(import.meta.dirname, 'import.ts');
    if (runner === 'dist') {
      console.log('compiling the child with tsc ...');
      const build = join(dir, 'build');
      script = await compileChild(script, build);
      // src/containerd/proto.js reads ../../proto/containerd relative to itself
      symlinkSync(join(import.meta.dirname, '..', '..', 'proto'), join(build, 'proto'), 'dir');
    }
    console.log(`building a ${sizeMiB} MiB docker-archive (${layerCount} layers) in ${dir} ...`);
    const built = await build(dir);
    console.log(`built in ${(built.ms / 1000).toFixed(1)} s`);
    const files: [string, string][] = [['plain', built.file]];
    if (cases.includes('zstd')) {
      const zst = `${built.file}.zst`;
      const z = await measured('zstd', ['-q', '-1', '-T0', built.file, '-o', zst]).catch(() => undefined);
      if (z) files.push(['zstd', zst]);
      else console.log('zstd CLI missing: zstd case skipped');
    }
    const rows: Record<string, unknown>[] = [];
    for (const [name, file] of files) {
      if (!cases.includes(name)) continue;
      const ferryCtd = await startContainerd();
      const refCtd = await startContainerd();
      try {
        const nodeArgs = runner === 'tsx' ? ['--import', 'tsx', script] : [script];
        const r = await measured(process.execPath, [...nodeArgs, '--child', JSON.stringify({ socket: ferryCtd.socket, file } satisfies ChildArgs)]);
        const res = JSON.parse(r.out.trim().split('\n').pop()!) as { ok: boolean; error?: string; ms: number; vmHwmKb: number; images?: { unpacked: boolean; bytes: number }[] };
        if (!res.ok) throw new Error(`${name}: ${res.error}`);
        // containerd 1.6's ctr reads plain and gzip'd archives only: a zstd one fails there ("invalid tar header")
        const ref = await measured('/usr/bin/ctr', ['--address', refCtd.socket, '-n', 'k8s.io', 'images', 'import', file]).catch((e: Error) => {
          console.log(`ctr images import ${name}: ${e.message.split('\n')[0]}`);
          return undefined;
        });
        const mb = statSync(file).size / 1e6;
        const peakMb = res.vmHwmKb / 1024;
        rows.push({
          case: name,
          archiveMB: Math.round(mb),
          seconds: +(res.ms / 1000).toFixed(1),
          'MB/s': Math.round(mb / (res.ms / 1000)),
          writtenMB: Math.round((res.images?.[0]?.bytes ?? 0) / 1e6),
          unpacked: res.images?.[0]?.unpacked,
          peakRssMB: +peakMb.toFixed(1),
          targetMB: TARGET_MB,
          result: peakMb <= TARGET_MB ? 'PASS' : 'FAIL',
          'ctr s': ref ? +(ref.ms / 1000).toFixed(1) : 'n/a',
          'ctr MB/s': ref ? Math.round(mb / (ref.ms / 1000)) : 'n/a',
          'ferry/ctr time': ref ? +(res.ms / ref.ms).toFixed(2) : 'n/a',
          'ctr peakRssMB': ref ? +(ref.sampledPeakKb / 1024).toFixed(1) : 'n/a',
        });
      } finally {
        await ferryCtd.stop();
        await refCtd.stop();
      }
    }
    console.log(`runner: ${runner}; reference: ctr -n k8s.io images import (unpacks into overlayfs too) of the same file into its own fresh containerd`);
    console.table(rows);
    writeFileSync(join(import.meta.dirname, 'last-import-run.json'), JSON.stringify({ at: new Date().toISOString(), sizeMiB, layerCount, runner, rows }, null, 2) + '\n');
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await childMain(JSON.parse(process.argv[childAt + 1]!) as ChildArgs);
else await parentMain();
