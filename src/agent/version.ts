/**
 * ferry's version for NodeState.version: package.json's `version`, found by
 * walking up from this file to the package named "ferry" (the way
 * src/dashboard/static-dir.ts finds the package root, from src/ under tsx and
 * from dist/ alike). Read once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function ferryVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  if (cached) return cached;
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const p = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (p.name === 'ferry' && typeof p.version === 'string') return (cached = p.version);
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return (cached = 'unknown');
}
