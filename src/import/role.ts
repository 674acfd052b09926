/**
 * `ferry import`: image tarballs -> the mirror.
 *
 * - `startImport` (a StartRole, also part of `ferry all`) watches import.dir.
 * - `runImportOnce(files, deps)` imports the given files and returns an exit
 *   code (0: all imported, 1: any failed, 2: no files given) for scripts.
 *
 * See docs/import.md for formats, naming, state and metrics.
 */
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Role, RoleContext, StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { RegistryEngine } from '../registry/index.js';
import { importFile, importSummary, type ImportDeps, type ImportOptions, type ImportResult } from './importer.js';
import { importFiles } from './metrics.js';
import { ImportWatcher, type ImportWatcherOptions } from './import-watcher.js';


function logResult(deps: ImportDeps, r: ImportResult): void {
  if (r.ok) {
    deps.logger.info(importSummary(r), r.blocked.length ? 'import: imported, except what block rules refuse' : 'import: imported');
  } else {
    deps.logger.error({ file: r.file, code: r.error?.code, err: r.error?.message, hint: r.error?.hint, refs: r.refs }, 'import: failed');
  }
}

/** `ferry import FILE...`: imports each file once (in order) and returns the exit code. */
export async function runImportOnce(files: string[], deps: ImportDeps, opts: ImportOptions = {}): Promise<number> {
  if (files.length === 0) {
    deps.logger.error('ferry import: no files given');
    return 2;
  }
  const engine = opts.mirror ? undefined : new RegistryEngine({ config: deps.config(), logger: deps.logger });
  const mirror = opts.mirror ?? engine!;
  let failed = 0;
  try {
    for (const f of files) {
      const path = resolve(f);
      try {
        const st = await stat(path);
        if (!st.isFile()) throw new Error('not a regular file');
      } catch (e) {
        deps.logger.error({ file: path, err: describeError(e) }, 'import: cannot read file');
        failed++;
        continue;
      }
      const r = await importFile(path, deps, { ...opts, mirror });
      importFiles.inc({ result: r.ok ? 'imported' : 'error' });
      logResult(deps, r);
      // a name the block rules refused did not land: a script must not go on as if it had
      if (!r.ok || r.blocked.length > 0) failed++;
    }
  } finally {
    await engine?.close();
  }
  return failed > 0 ? 1 : 0;
}

export interface ImportRole extends Role {
  watcher: ImportWatcher;
}

/** The `import` role: watches import.dir until closed. */
export const startImport: StartRole = async (ctx: RoleContext, opts: Partial<ImportWatcherOptions> = {}): Promise<ImportRole> => {
  const logger = ctx.logger.child({ role: 'import' });
  const engine = ctx.registry();
  const deps: ImportDeps = {
    config: () => ctx.config(),
    logger,
    store: ctx.store,
    connection: ctx.connection,
    mirrorRefOf: (ref) => ctx.mirrorRefOf(ref),
  };
  const watcher = new ImportWatcher(deps, { mirror: engine, ...opts });
  ctx.onConfigChange((next, prev) => watcher.configChanged(next, prev));
  await watcher.start();
  ctx.addReadiness('import', () => watcher.readiness());
  logger.info({ dir: watcher.directory, stableMs: ctx.config().import.stableMs }, 'import: watching');
  return {
    name: 'import',
    watcher,
    async close() {
      await watcher.close();
    },
  };
};
