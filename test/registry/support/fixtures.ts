/** Shared fixtures for the registry tests: config builder, test images, a log capture. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../../src/config/defaults.js';
import type { FerryConfig, RegistryConfig } from '../../../src/config/types.js';
import { buildImage, buildIndex, pushImage, type BuiltImage } from '../../support/images.js';

export function testConfig(opts: { registries?: Record<string, RegistryConfig>; copy?: Partial<FerryConfig['copy']>; mirror?: string } = {}): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.registries = opts.registries ?? {};
  c.copy = { ...c.copy, requestsPerSecond: 0, ...opts.copy };
  if (opts.mirror) c.mirror.registry = opts.mirror;
  return c;
}

export interface TestImages {
  layout: string;
  amd64: BuiltImage;
  arm64: BuiltImage;
  armv7: BuiltImage;
  index: { digest: string; size: number };
  cleanup(): void;
}

/** amd64 / arm64 / arm v7 images (2 layers each) and an index over the three. */
export function buildTestImages(layerSizes = [150_000, 250_000]): TestImages {
  const layout = mkdtempSync(join(tmpdir(), 'ferry-layout-'));
  const amd64 = buildImage(layout, { tag: 'amd64', layerSizes, architecture: 'amd64', created: '2024-01-02T03:04:05Z' });
  const arm64 = buildImage(layout, { tag: 'arm64', layerSizes, architecture: 'arm64' });
  const armv7 = buildImage(layout, { tag: 'armv7', layerSizes, architecture: 'arm' });
  const index = buildIndex(layout, 'multi', [
    { image: amd64, os: 'linux', architecture: 'amd64' },
    { image: arm64, os: 'linux', architecture: 'arm64', variant: 'v8' },
    { image: armv7, os: 'linux', architecture: 'arm', variant: 'v7' },
  ]);
  return { layout, amd64, arm64, armv7, index, cleanup: () => rmSync(layout, { recursive: true, force: true }) };
}

/** Pushes `amd64` as repo:v1 and the index as repo:multi. */
export async function pushTestImages(imgs: TestImages, registryHost: string, repo = 'demo/app', creds?: { username: string; password: string }): Promise<void> {
  // One after the other: both carry the amd64 blobs, and docker-registry's
  // filesystem driver can answer 500 to a HEAD on a blob another request is
  // still linking into the same repository (seen in CI).
  await pushImage(imgs.layout, 'multi', `${registryHost}/${repo}:multi`, creds);
  await pushImage(imgs.layout, 'amd64', `${registryHost}/${repo}:v1`, creds);
}

/** Collects every log call, to assert nothing secret is ever logged. */
export function captureLogger(): { logger: { debug(o: object, m?: string): void; info(o: object, m?: string): void; warn(o: object, m?: string): void }; lines: string[] } {
  const lines: string[] = [];
  const rec = (o: object, m?: string) => lines.push(JSON.stringify({ ...o, msg: m }));
  return { logger: { debug: rec, info: rec, warn: rec }, lines };
}

/** Asserts that none of `secrets` (passwords, base64 auth, tokens) appears in `texts` (log lines, error messages). */
export function noSecrets(t: { notOk(v: unknown, m: string): void }, secrets: string[], texts: string[]): void {
  const all = texts.join('\n');
  for (const s of secrets) t.notOk(all.includes(s), `no "${s.slice(0, 4)}…" in logs/errors`);
}
