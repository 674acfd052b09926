/**
 * Every Redis key the workload image index writes, under
 * `${queue.prefix}:workloads`. Keys grow with workloads, never with events.
 */
export function workloadKeys(prefix: string) {
  const base = `${prefix}:workloads`;
  return {
    base,
    /** Hash `namespace/Kind/name` -> JSON WorkloadEntry (only workloads that need images now). */
    byWorkload: `${base}:byworkload`,
    /** ms a watcher last wrote its whole view (after a list or relist). */
    syncedAt: `${base}:synced`,
  };
}

export type WorkloadKeys = ReturnType<typeof workloadKeys>;
