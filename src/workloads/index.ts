/** The workload image index: the images Deployments, StatefulSets and DaemonSets will pull, for the node agent (docs/workloads.md). Public face only. */
export * from './types.js';
export { startWorkloadIndex, WorkloadIndex, type WorkloadIndexEvents, type WorkloadIndexOptions } from './index-watcher.js';
export { WorkloadImages } from './reader.js';
export { workloadKeys, type WorkloadKeys } from './keys.js';
export { workloadImages, workloadKey, type WorkloadLike } from './workload-images.js';
export { imagesForNode } from './selector.js';
export { placementAllows, selectorMatches, repellingTaints, type NodeFacts, type NodeSelectorTerm, type Placement, type Taint, type Toleration } from './placement.js';
