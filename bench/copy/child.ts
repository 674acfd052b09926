/**
 * Child process for the peak-RSS measurement: `node --import tsx bench/copy/child.ts SRC DST`
 * copies with the engine and prints `{ ...CopyResult, ms, vmHwmKb }` (VmHWM = the
 * kernel's peak-RSS high-water mark). With `--baseline` it only loads the engine.
 */
import { readFileSync } from 'node:fs';
import { RegistryEngine } from '../../src/registry/index.js';
import { benchConfig } from './lib.js';

const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const [a, b] = process.argv.slice(2);
if (a === '--baseline') {
  const engine = new RegistryEngine({ config: benchConfig() });
  await engine.close();
  process.stdout.write(`${JSON.stringify({ baseline: true, vmHwmKb: hwm() })}\n`);
} else {
  const engine = new RegistryEngine({ config: benchConfig({ platforms: [] }) });
  const t0 = performance.now();
  const res = await engine.copy({ src: a!, dst: b! });
  const ms = performance.now() - t0;
  await engine.close();
  process.stdout.write(`${JSON.stringify({ ...res, ms, vmHwmKb: hwm() })}\n`);
}
