import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the page's HTML/CSS/JS live. tsc does not copy them to dist/, so the
 * package keeps them at `src/dashboard/static` (package.json `files` and the
 * Dockerfile ship that folder) and both layouts find them:
 *   - from src/ (tsx): `<this dir>/static`
 *   - from dist/dashboard/: walk up to the package root (package.json named
 *     "ferry") and use `src/dashboard/static`.
 */
export function resolveStaticDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const here = join(from, 'static');
  if (existsSync(join(here, 'index.html'))) return here;
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ferry') {
          const candidate = join(dir, 'src', 'dashboard', 'static');
          if (existsSync(join(candidate, 'index.html'))) return candidate;
        }
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(
    `ferry dashboard: static files not found (looked in ${here} and <package root>/src/dashboard/static); ` +
      'the package must ship src/dashboard/static next to dist/',
  );
}
