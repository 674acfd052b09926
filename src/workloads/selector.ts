/**
 * Which indexed images a node needs: those of a workload whose placement
 * (nodeSelector, required node affinity, tolerations of the node's taints)
 * lets its pods land on the node, as the scheduler's hard rules read them
 * (placement.ts). Pure.
 */
import { placementAllows, repellingTaints, type NodeFacts } from './placement.js';
import type { WorkloadImageUse } from './types.js';

/** The entries some of whose workloads can land on `node`. */
export function imagesForNode(uses: readonly WorkloadImageUse[], node: NodeFacts): WorkloadImageUse[] {
  const repelling = repellingTaints(node);
  return uses.filter((u) => u.placements.some((p) => placementAllows(p, node, repelling)));
}
