/** Drift refresh: mirrored tags re-resolved upstream and re-mirrored when they moved (SPEC "Cluster awareness"). Public face only. */
export { runRefresh, refreshKeys, remirrorDrifted, type DriftDeps, type RefreshDeps, type RefreshEngine, type RefreshReport } from './run.js';
export { refreshTarget, selectForRun, type RefreshBatch, type RefreshSelection, type RefreshTarget } from './select.js';
