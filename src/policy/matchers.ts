import picomatch from 'picomatch';
import type { BlockRule } from '../config/types.js';

export type Matcher = (ref: string) => boolean;

/**
 * Globs over normalized references. `*` stays within one path segment, `**`
 * crosses them, so `docker.io/library/*` matches `docker.io/library/nginx:1`
 * but not `docker.io/library/a/b:1`. Compiled once per config.
 */
export function compileGlobs(globs: string[]): Matcher {
  if (globs.length === 0) return () => false;
  const m = picomatch(globs, { dot: true, nobrace: false });
  return (ref) => m(ref);
}

export interface CompiledBlock {
  matches(ref: string, repository: string, digests: (string | null | undefined)[]): BlockRule | undefined;
}

/** Block rules: a glob over the normalized ref (or its repository), or an exact manifest digest. */
export function compileBlock(rules: BlockRule[]): CompiledBlock {
  const byPattern = rules.filter((r) => r.pattern).map((r) => ({ rule: r, m: picomatch(r.pattern!, { dot: true }) }));
  const byDigest = new Map(rules.filter((r) => r.digest).map((r) => [r.digest!, r]));
  return {
    matches(ref, repository, digests) {
      for (const d of digests) {
        if (d) {
          const hit = byDigest.get(d);
          if (hit) return hit;
        }
      }
      for (const { rule, m } of byPattern) if (m(ref) || m(repository)) return rule;
      return undefined;
    },
  };
}
