/**
 * Every Redis key the in-use index writes, under `${queue.prefix}:inuse`.
 * Keys grow with pods and with the refs/digests pods name, never with events.
 */
export function inUseKeys(prefix: string) {
  const base = `${prefix}:inuse`;
  return {
    base,
    /** Set of `namespace/pod` the index holds. */
    pods: `${base}:pods`,
    /** Hash container -> encoded entry (see ENTRY in scripts.ts). */
    pod: (podKey: string) => `${base}:pod:${podKey}`,
    /** Set of `namespace/pod` naming the ref now. */
    refPods: (ref: string) => `${base}:ref:${ref}`,
    /** Hash namespace -> pods naming the ref now. */
    refNamespaces: (ref: string) => `${base}:refns:${ref}`,
    /** Set of refs some pod names now. */
    refs: `${base}:refs`,
    /** Hash ref -> ms when the last pod stopped naming it. */
    refSeen: `${base}:seen:ref`,
    /** Hash digest -> pods running it now. */
    digests: `${base}:digests`,
    /** Hash digest -> ms when the last pod running it went. */
    digestSeen: `${base}:seen:digest`,
    /** Sorted set tracker id -> ms its heartbeat expires. */
    live: `${base}:live`,
    /** ms the last tracker finished an initial list (or relist). */
    syncedAt: `${base}:synced`,
  };
}

export type InUseKeys = ReturnType<typeof inUseKeys>;
