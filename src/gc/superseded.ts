/**
 * Superseded digests: when drift refresh re-mirrors a tag, the tag moves to
 * the new manifest and the old one stays in the mirror with no record
 * pointing at it (pods may still run it, by digest). Refresh notes it here;
 * GC deletes it once no pod ran it for `gc.keepUnusedFor`, the same rule
 * that protects every digest. Without this note nothing would ever find it.
 */
import type { Redis } from 'ioredis';
import { gcKeys } from './keys.js';

export interface SupersededDigest {
  /** Mirror repository holding the manifest (`mirror:5000/docker.io/library/nginx`). */
  repository: string;
  digest: string;
  /** The upstream tag reference whose record pointed at it. */
  ref: string;
  /** When refresh saw the tag move away from it (ISO). */
  supersededAt: string;
}

export const supersededField = (s: Pick<SupersededDigest, 'repository' | 'digest'>): string => `${s.repository}@${s.digest}`;

/** Notes an old digest; one noted earlier keeps its first time (the digest has been superseded since then). */
export async function noteSuperseded(redis: Redis, prefix: string, s: SupersededDigest): Promise<void> {
  await redis.hsetnx(gcKeys(prefix).superseded, supersededField(s), JSON.stringify(s));
}

export async function readSuperseded(redis: Redis, prefix: string): Promise<SupersededDigest[]> {
  const raw = await redis.hgetall(gcKeys(prefix).superseded);
  const out: SupersededDigest[] = [];
  for (const v of Object.values(raw)) {
    try {
      const s = JSON.parse(v) as SupersededDigest;
      if (typeof s.repository === 'string' && typeof s.digest === 'string' && typeof s.ref === 'string' && typeof s.supersededAt === 'string') out.push(s);
    } catch {
      /* a foreign value is skipped, never trusted */
    }
  }
  return out;
}

export async function forgetSuperseded(redis: Redis, prefix: string, entries: readonly Pick<SupersededDigest, 'repository' | 'digest'>[]): Promise<void> {
  if (entries.length) await redis.hdel(gcKeys(prefix).superseded, ...entries.map(supersededField));
}
