/** Garbage collection of mirrored images no pod uses (SPEC "Cluster awareness"). Public face only. */
export { gcReportKey, type GcItem, type GcReport } from './types.js';
