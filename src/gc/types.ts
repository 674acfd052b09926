/**
 * What one garbage-collection run found and did (`GET /api/gc`, SPEC
 * "Cluster awareness"). Written by the GC run, read by the dashboard.
 */
export interface GcItem {
  /** Normalized upstream reference of the record. */
  ref: string;
  mirrorRef: string;
  /** Mirror manifest digest the record points at. */
  digest: string | null;
  /** When a pod last ran it; null = no pod ever did (then the record's mirroredAt is the baseline). */
  unusedSince: string | null;
  /** Why a candidate was kept (e.g. "digest sha256:... runs in 2 pods"), or why a delete failed. */
  reason?: string;
  /**
   * `record` (default when absent): an image record and its manifest.
   * `superseded`: an old digest drift refresh re-mirrored a tag away from;
   * no record points at it (`ref` is that tag, `mirrorRef` is `repo@digest`).
   */
  kind?: 'record' | 'superseded';
}

export interface GcReport {
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  unusedFor: string;
  keepUnusedFor: string;
  /** Removed from the mirror (dryRun: would be removed). */
  removed: GcItem[];
  /** Unused long enough, but kept: their digest runs, ran recently, or another record still uses it. */
  protected: GcItem[];
  errors: GcItem[];
  /** Set when the run did nothing at all, and why (e.g. "no synced pod watch: ferry cannot tell what runs"). */
  skipped: string | null;
}

/** Redis key of the last report (JSON). */
export const gcReportKey = (prefix: string): string => `${prefix}:gc:last`;
