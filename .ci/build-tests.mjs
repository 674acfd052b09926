#!/usr/bin/env node
/**
 * Builds the test tree the suite runs: `node .ci/build-tests.mjs`.
 *
 * Why: under tap's TypeScript plugin every test process loaded ts-node and
 * the TypeScript compiler and transpiled its whole import graph again, about
 * 1 s of CPU per file before its first assertion (a one-assertion test: 1.4 s
 * against 0.44 s precompiled), times ~150 files on 2 cores. One `tsc` run
 * typechecks src, test and bench (the check the suite did anyway) and emits
 * JavaScript with source maps into .test-build/, which tap then runs as
 * plain ESM.
 *
 * .test-build/ mirrors the checkout so every path a test or module computes
 * from `import.meta.url` lands where it did beside the sources: the top-level
 * entries (README.md, deploy/, proto/, node_modules, ...) are symlinks, and
 * in src/, test/ and bench/ every file tsc does not emit (the .ts sources
 * themselves, fixtures, static assets) is a symlink to the real file. A child
 * started on a symlinked .ts (`node --import tsx .test-build/src/cli/main.ts`)
 * runs from the real checkout: Node resolves the main module's real path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.test-build');
/** Compiled by tsc (and so mirrored file by file); everything else at the top level is one symlink. */
const COMPILED = new Set(['src', 'test', 'bench']);
const SKIP = new Set(['.test-build', '.git']);

rmSync(OUT, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.test.json'), '--noEmit', 'false', '--outDir', OUT], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

/** Symlinks (relative, so the tree can move) every file under `dir` that tsc did not write. */
function mirror(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const src = join(dir, entry.name);
    const dst = join(OUT, relative(ROOT, src));
    if (entry.isDirectory()) {
      mirror(src);
    } else if (!existsSync(dst)) {
      mkdirSync(dirname(dst), { recursive: true });
      symlinkSync(relative(dirname(dst), src), dst);
    }
  }
}

for (const name of readdirSync(ROOT)) {
  if (SKIP.has(name)) continue;
  if (COMPILED.has(name)) {
    mirror(join(ROOT, name));
  } else if (!existsSync(join(OUT, name))) {
    symlinkSync(join('..', name), join(OUT, name));
  }
}
