/**
 * The read side of the workload image index, for the agent: every image the
 * cluster's workloads will pull, with the workloads naming it and where they
 * can land. A value that does not decode (written by another ferry version)
 * is skipped, never thrown on.
 */
import type { Redis } from 'ioredis';
import { workloadKeys, type WorkloadKeys } from './keys.js';
import { nodeSelectorTermsOf, tolerationListOf, type Placement } from './placement.js';
import type { WorkloadEntry, WorkloadImageUse } from './types.js';

function decode(raw: string): WorkloadEntry | undefined {
  try {
    const v = JSON.parse(raw) as Partial<WorkloadEntry> | null;
    if (!v || !Array.isArray(v.images) || typeof v.nodeSelector !== 'object' || v.nodeSelector === null) return undefined;
    const images = v.images.filter((i) => typeof i?.ref === 'string' && typeof i?.pull === 'string');
    // an entry of an older ferry has neither; a malformed one is read as the writer would have cleaned it
    const affinity = nodeSelectorTermsOf(v.affinity);
    const tolerations = tolerationListOf(v.tolerations);
    return { images, nodeSelector: v.nodeSelector, ...(affinity ? { affinity } : {}), ...(tolerations ? { tolerations } : {}) };
  } catch {
    return undefined;
  }
}

/** A placement in one spelling (nodeSelector keys sorted), to tell duplicates apart. */
function placementKey(p: Placement): string {
  return JSON.stringify([Object.entries(p.nodeSelector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), p.affinity ?? null, p.tolerations ?? null]);
}

function placementOf(e: WorkloadEntry): Placement {
  return { nodeSelector: e.nodeSelector, ...(e.affinity ? { affinity: e.affinity } : {}), ...(e.tolerations ? { tolerations: e.tolerations } : {}) };
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

  /** Every indexed image (one per `pull`), sorted by ref then pull; workloads sorted; each distinct placement once. */
  async list(): Promise<WorkloadImageUse[]> {
    const all = await this.redis.hgetall(this.keys.byWorkload);
    const byPull = new Map<string, { ref: string; pull: string; workloads: string[]; placements: Map<string, Placement> }>();
    for (const [workload, raw] of Object.entries(all)) {
      const entry = decode(raw);
      if (!entry) continue;
      for (const { ref, pull } of entry.images) {
        let use = byPull.get(pull);
        if (!use) byPull.set(pull, (use = { ref, pull, workloads: [], placements: new Map() }));
        use.workloads.push(workload);
        const placement = placementOf(entry);
        use.placements.set(placementKey(placement), placement);
      }
    }
    return [...byPull.values()]
      .map((u) => ({ ref: u.ref, pull: u.pull, workloads: u.workloads.sort(cmp), placements: [...u.placements].sort(([a], [b]) => cmp(a, b)).map(([, p]) => p) }))
      .sort((a, b) => cmp(a.ref, b.ref) || cmp(a.pull, b.pull));
  }

  /** When a watcher last wrote its whole view (ISO), or null when none has (the index is empty or Redis lost it). */
  async syncedAt(): Promise<string | null> {
    const ms = await this.redis.get(this.keys.syncedAt);
    return ms === null ? null : new Date(Number(ms)).toISOString();
  }
}
