/**
 * `ferry copy [--platform os/arch]... [--all] [--platform-mode MODE] [--progress] SRC DST`
 *
 * One-shot copy with the same engine as the workers. Prints one line of JSON
 * (the CopyResult plus src, dst, `ms`) on stdout and returns 0; on failure
 * prints one line `ferry copy: CODE: message (hint)` on stderr and returns 1.
 * Without --platform/--all, config.copy.platforms applies; without
 * --platform-mode, config.copy.platformMode. With log.level
 * debug or trace, the engine's log lines (each registry request) go to stderr.
 */
import { CLI_ERROR_TABLE } from '../cli-errors.js';
import type { FerryConfig, PlatformMode } from '../config/types.js';
import { describeError, isFerryError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import { normalizeReference } from '../reference/index.js';
import { RegistryEngine } from '../registry/index.js';

export const COPY_USAGE = 'usage: ferry copy [--platform os/arch[/variant]]... [--all] [--platform-mode auto|full|sparse|strip] [--progress] SRC DST';
const PLATFORM_MODES: readonly PlatformMode[] = ['auto', 'full', 'sparse', 'strip'];

export interface ParsedCopyArgs {
  src: string;
  dst: string;
  platforms: string[] | undefined;
  platformMode: PlatformMode | undefined;
  progress: boolean;
}

export function parseCopyArgs(args: string[]): ParsedCopyArgs {
  const platforms: string[] = [];
  let all = false;
  let progress = false;
  let platformMode: PlatformMode | undefined;
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--all') all = true;
    else if (a === '--progress') progress = true;
    else if (a === '--platform-mode' || a.startsWith('--platform-mode=')) {
      const v = a === '--platform-mode' ? args[++i] : a.slice('--platform-mode='.length);
      if (!PLATFORM_MODES.includes(v as PlatformMode)) {
        throw CLI_ERROR_TABLE.create('USAGE', `--platform-mode needs one of ${PLATFORM_MODES.join(', ')}, got ${v ?? 'nothing'}`, { hint: COPY_USAGE });
      }
      platformMode = v as PlatformMode;
    }
    else if (a === '--platform' || a.startsWith('--platform=')) {
      const v = a === '--platform' ? args[++i] : a.slice('--platform='.length);
      if (!v || !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/i.test(v)) {
        throw CLI_ERROR_TABLE.create('USAGE', `--platform needs os/arch[/variant], got ${v ?? 'nothing'}`, { hint: COPY_USAGE });
      }
      platforms.push(...v.split(','));
    } else if (a.startsWith('--')) {
      throw CLI_ERROR_TABLE.create('USAGE', `unknown option ${a}`, { hint: COPY_USAGE });
    } else pos.push(a);
  }
  if (pos.length !== 2) throw CLI_ERROR_TABLE.create('USAGE', `expected SRC and DST, got ${pos.length} argument(s)`, { hint: COPY_USAGE });
  if (all && platforms.length) throw CLI_ERROR_TABLE.create('USAGE', '--all and --platform exclude each other', { hint: COPY_USAGE });
  const norm = (s: string) => normalizeReference(s);
  return { src: norm(pos[0]!), dst: norm(pos[1]!), platforms: all ? [] : platforms.length ? platforms : undefined, platformMode, progress };
}

/**
 * The copy's logger: stderr, and only at debug/trace, so that by default
 * stdout is one JSON line and stderr one error line, as scripts expect.
 */
export async function copyLogger(level: FerryConfig['log']['level']): Promise<Logger | undefined> {
  if (level !== 'debug' && level !== 'trace') return undefined;
  const { createLogger } = await import('../logging/index.js');
  return createLogger(level, process.stderr);
}

export async function runCopy(args: string[], config: FerryConfig, logger?: Logger): Promise<number> {
  let parsed: ParsedCopyArgs;
  try {
    parsed = parseCopyArgs(args);
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return 1;
  }
  const engine = new RegistryEngine({ config, ...(logger ? { logger } : {}) });
  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = performance.now();
  try {
    const result = await engine.copy({
      src: parsed.src,
      dst: parsed.dst,
      ...(parsed.platforms ? { platforms: parsed.platforms } : {}),
      ...(parsed.platformMode ? { platformMode: parsed.platformMode } : {}),
      signal: ctrl.signal,
      ...(parsed.progress ? { onProgress: (p: { bytesDone: number; bytesTotal: number }) => process.stderr.write(`${JSON.stringify({ progress: p })}\n`) } : {}),
    });
    process.stdout.write(`${JSON.stringify({ src: parsed.src, dst: parsed.dst, ...result, ms: Math.round(performance.now() - t0) })}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}

/** One human-readable line: `ferry copy: CODE: message (hint)`. */
function errorLine(e: unknown): string {
  if (isFerryError(e)) return `ferry copy: ${e.code}: ${e.describe()}${e.transient ? ' [transient: retrying may succeed]' : ''}`;
  return `ferry copy: ${describeError(e)}`;
}
