/**
 * Child process for the import bench: `node --import tsx bench/import/child.ts JSON`
 * imports one archive with importFile (its own RegistryEngine, Redis
 * connection and ImageStore: what `ferry import FILE` does) and prints
 * `{ ...result summary, ms, vmHwmKb }` (VmHWM = the kernel's peak-RSS mark).
 * `{"baseline": true}` only loads the same modules and connects.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { FerryConfig } from '../../src/config/types.js';
import { importFile } from '../../src/import/index.js';
import { connectRedis, ImageStore } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';

interface Args {
  baseline?: boolean;
  file?: string;
  registry: string;
  redisUrl: string;
  prefix: string;
  layerCompression?: 'gzip' | 'none';
}

const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const config: FerryConfig = structuredClone(DEFAULTS);
config.mirror = { registry: args.registry, insecure: true, prefix: '' };
config.queue = { ...config.queue, redisUrl: args.redisUrl, prefix: args.prefix };
config.copy = { ...config.copy, requestsPerSecond: 0, timeoutMs: 120_000 };
const connection = connectRedis(args.redisUrl);
const store = new ImageStore(connection, args.prefix);
const logger = pino({ level: 'warn' }, process.stderr);
const engine = new RegistryEngine({ config, logger });
if (args.baseline) {
  await connection.ping();
  process.stdout.write(`${JSON.stringify({ baseline: true, vmHwmKb: hwm() })}\n`);
} else {
  const t0 = performance.now();
  const r = await importFile(args.file!, { config: () => config, logger, store, connection }, { mirror: engine, layerCompression: args.layerCompression ?? 'gzip' });
  const ms = performance.now() - t0;
  process.stdout.write(
    `${JSON.stringify({
      ok: r.ok,
      error: r.error?.message,
      format: r.format,
      compression: r.compression,
      digest: r.images[0]?.digest,
      blobsPushed: r.blobsPushed,
      bytesPushed: r.bytesPushed,
      ms,
      vmHwmKb: hwm(),
    })}\n`,
  );
}
await engine.close();
connection.disconnect();
