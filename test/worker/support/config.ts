import { DEFAULTS, type FerryConfig } from '../../../src/config/index.js';

/** DEFAULTS with a mirror, a private queue prefix and fast backoff. */
export function testConfig(o: { mirror: string; prefix: string; maxAttempts?: number; concurrency?: number; initialMs?: number }): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.mirror = { registry: o.mirror, insecure: true, prefix: '' };
  c.queue = {
    ...c.queue,
    prefix: o.prefix,
    concurrency: o.concurrency ?? 4,
    maxAttempts: o.maxAttempts ?? 4,
    backoff: { initialMs: o.initialMs ?? 50, maxMs: 2000 },
  };
  // Single-platform test images; no per-registry request budget in tests.
  c.copy = { ...c.copy, platforms: [], requestsPerSecond: 0, timeoutMs: 10_000 };
  c.log = { level: 'silent' };
  return c;
}
