/**
 * Compiles a bench child script (and the src/ it imports) to plain JS in
 * `buildDir`, so the measured process runs without tsx's loader in its RSS
 * and start-up. Returns the compiled script's path.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export async function compileChild(childTs: string, buildDir: string): Promise<string> {
  const root = join(import.meta.dirname, '..');
  mkdirSync(buildDir, { recursive: true });
  // outside the repo: ESM marker and the repo's node_modules for package imports
  writeFileSync(join(buildDir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(root, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
  const cfg = join(buildDir, 'tsconfig.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { outDir: buildDir, rootDir: root, sourceMap: false, noEmitOnError: false },
      include: [childTs],
    }),
  );
  // type errors elsewhere in the tree (work in progress) do not stop the emit
  await new Promise<void>((resolve) => {
    spawn(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cfg], { stdio: 'ignore' }).on('exit', () => resolve());
  });
  return join(buildDir, relative(root, childTs).replace(/\.ts$/, '.js'));
}
