/**
 * The read side of the workload image index, for the agent: every image the
 * cluster's workloads will pull, with the workloads naming it and where they
 * can land. A value that does not decode (written by another ferry version)
 * is skipped, never thrown on.
 */
import type { Redis } from 'ioredis';
import { workloadKeys, type WorkloadKeys } from './keys.js';
import type { WorkloadEntry, WorkloadImageUse } from './types.js';

function decode(raw: string): WorkloadEntry | undefined {
  try {
    const v = JSON.parse(raw) as Partial<WorkloadEntry> | null;
    if (!v || !Array.isArray(v.images) || typeof v.nodeSelector !== 'object' || v.nodeSelector === null) return undefined;
    const images = v.images.filter((i) => typeof i?.ref === 'string' && typeof i?.pull === 'string');
    return { images, nodeSelector: v.nodeSelector };
  } catch {
    return undefined;
  }
}

/** A nodeSelector in one spelling (sorted keys), to tell duplicates apart. */
function selectorKey(s: Record<string, string>): string {
  return JSON.stringify(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class WorkloadImages {
  readonly keys: WorkloadKeys;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    this.keys = workloadKeys(prefix);
  }

  /** Every indexed image (one per `pull`), sorted by ref then pull; workloads sorted; each distinct nodeSelector once. */
  async list(): Promise<WorkloadImageUse[]> {
    const all = await this.redis.hgetall(this.keys.byWorkload);
    const byPull = new Map<string, { ref: string; pull: string; workloads: string[]; selectors: Map<string, Record<string, string>> }>();
    for (const [workload, raw] of Object.entries(all)) {
      const entry = decode(raw);
      if (!entry) continue;
      for (const { ref, pull } of entry.images) {
        let use = byPull.get(pull);
        if (!use) byPull.set(pull, (use = { ref, pull, workloads: [], selectors: new Map() }));
        use.workloads.push(workload);
        use.selectors.set(selectorKey(entry.nodeSelector), entry.nodeSelector);
      }
    }
    return [...byPull.values()]
      .map((u) => ({ ref: u.ref, pull: u.pull, workloads: u.workloads.sort(cmp), nodeSelectors: [...u.selectors].sort(([a], [b]) => cmp(a, b)).map(([, s]) => s) }))
      .sort((a, b) => cmp(a.ref, b.ref) || cmp(a.pull, b.pull));
  }

  /** When a watcher last wrote its whole view (ISO), or null when none has (the index is empty or Redis lost it). */
  async syncedAt(): Promise<string | null> {
    const ms = await this.redis.get(this.keys.syncedAt);
    return ms === null ? null : new Date(Number(ms)).toISOString();
  }
}
