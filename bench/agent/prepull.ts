/**
 * Pre-pull bench: how long the agent's pre-puller (src/agent/prepuller.ts,
 * DEFAULT agent settings: pullConcurrency 4) takes to make 20 images present
 * on a cold containerd through CRI, against 20 sequential
 * `ctr -n k8s.io images pull --plain-http <ref>` on another cold containerd.
 * Both pull from the same loopback docker-registry and unpack into
 * overlayfs; each side gets its own fresh containerd, so neither finds
 * content or snapshots the other left.
 *
 * Images: 20 distinct, each 3 layers of 1 MiB of random (incompressible) data.
 *
 *   node --import tsx bench/agent/prepull.ts [--images 20] [--layer-kib 1024]
 *
 * Needs root and /usr/bin/containerd (as test/agent does); says why and exits 0 otherwise.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Prepuller } from '../../src/agent/prepuller.js';
import { DEFAULTS } from '../../src/config/index.js';
import { connectCri } from '../../src/cri/index.js';
import { containerdSkipReason, startContainerd } from '../../test/support/containerd.js';
import { buildImage, pushImage } from '../../test/support/images.js';
import { startRegistry } from '../../test/support/registry.js';
import { benchOption } from '../support/args.js';

const run = promisify(execFile);
const opt = benchOption;
const images = Number(opt('images', '20'));
const layerKiB = Number(opt('layer-kib', '1024'));

const skip = containerdSkipReason();
if (skip) {
  console.log(`bench/agent/prepull skipped: ${skip}`);
  process.exit(0);
}

const tmp = mkdtempSync(join(tmpdir(), 'ferry-bench-prepull-'));
const registry = await startRegistry();
try {
  // ---- images: built and pushed (not timed)
  const refs: string[] = [];
  const t0 = Date.now();
  const build = async (i: number) => {
    const dir = join(tmp, `img${i}`);
    buildImage(dir, { tag: 'v1', layerSizes: [layerKiB * 1024, layerKiB * 1024, layerKiB * 1024] });
    const ref = `${registry.host}/docker.io/bench/img${i}:v1`;
    await pushImage(dir, 'v1', ref);
    refs[i] = ref;
  };
  for (let i = 0; i < images; i += 4) await Promise.all(Array.from({ length: Math.min(4, images - i) }, (_, k) => build(i + k)));
  console.log(`${images} images x 3 layers x ${layerKiB} KiB pushed to ${registry.host} in ${Date.now() - t0} ms`);

  // ---- (a) the agent's pre-puller, default settings, through CRI
  const a = await startContainerd();
  let agentMs: number;
  try {
    await a.addPlainHttpHost(registry.host);
    const cri = connectCri(a.socket);
    await cri.version(); // the channel is open before the clock starts, as in a running agent
    const p = new Prepuller({ cri, settings: () => DEFAULTS.agent, authFor: async () => undefined, logger: pino({ level: 'silent' }) });
    const start = performance.now();
    const done = new Promise<void>((resolve) => p.once('ready', resolve));
    p.setPlan(refs.map((ref) => ({ image: ref, ref, source: 'config' as const })));
    await done;
    agentMs = performance.now() - start;
    const failed = p.states().filter((s) => s.attempts > 0 || s.status !== 'present');
    if (failed.length) console.log(`warning: ${failed.length} images needed retries`);
    await p.close();
    cri.close();
  } finally {
    await a.stop();
  }

  // ---- (b) sequential ctr pulls on another cold containerd
  const b = await startContainerd();
  let ctrMs: number;
  try {
    const start = performance.now();
    for (const ref of refs) await run('/usr/bin/ctr', ['--address', b.socket, '-n', 'k8s.io', 'images', 'pull', '--plain-http', ref]);
    ctrMs = performance.now() - start;
    // the CRI plugin adds a `sha256:<config>` entry beside each name it sees: count names only
    const listed = (await b.imageNames()).filter((n) => !n.startsWith('sha256:')).length;
    if (listed !== images) console.log(`warning: ctr side lists ${listed} images`);
  } finally {
    await b.stop();
  }

  console.log(`agent pre-puller (CRI, pullConcurrency ${DEFAULTS.agent.pullConcurrency}): ${images} images present in ${agentMs.toFixed(0)} ms`);
  console.log(`ctr images pull, sequential:                 ${images} images present in ${ctrMs.toFixed(0)} ms`);
  console.log(`ratio ctr / agent: ${(ctrMs / agentMs).toFixed(2)}x`);
} finally {
  await registry.stop();
  rmSync(tmp, { recursive: true, force: true });
}
