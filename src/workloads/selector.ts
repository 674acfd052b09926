/**
 * Which indexed images a node needs: those of a workload whose nodeSelector
 * the node's labels satisfy (every key present with the same value; an empty
 * selector matches every node), as the scheduler reads `nodeSelector`.
 * Affinity, taints and tolerations are not indexed (workload-images.ts). Pure.
 */
import type { WorkloadImageUse } from './types.js';

export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** The entries some of whose workloads can land on a node with `labels`. */
export function imagesForNode(uses: readonly WorkloadImageUse[], labels: Readonly<Record<string, string>>): WorkloadImageUse[] {
  return uses.filter((u) => u.nodeSelectors.some((s) => selectorMatches(s, labels)));
}
