/**
 * The workload image index: which images the pod templates of the cluster's
 * Deployments, StatefulSets and DaemonSets name, so each node's agent can
 * pull them before a pod asks (`agent.prepullWorkloads`). Written by the
 * watch role (index-watcher.ts), read by the agent (reader.ts).
 */

import type { NodeSelectorTerm, Placement, Toleration } from './placement.js';

/** The workload kinds indexed (apps/v1). */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** One image a workload's pods will pull. */
export interface WorkloadImage {
  /** Normalized upstream reference (a mirror reference mapped back, as the in-use index does). */
  ref: string;
  /**
   * What the pods will pull, so what a node should hold: the mirror
   * reference where the webhook rewrites this namespace's images; the
   * upstream `ref` itself where it does not (rewrite mode `off`, e.g.
   * kube-system; `ferry.io/skip`; an image `rewrite.include`/`exclude`
   * leave alone); the template's own image when it already names the mirror.
   */
  pull: string;
}

/** What the index keeps per workload (`namespace/Kind/name`). */
export interface WorkloadEntry {
  images: WorkloadImage[];
  /** The pod template's `nodeSelector` ({} = every node). */
  nodeSelector: Record<string, string>;
  /** Its required node-affinity terms, when it has any (placement.ts). */
  affinity?: NodeSelectorTerm[];
  /** Its tolerations, when it has any. */
  tolerations?: Toleration[];
}

/** One image as `WorkloadImages.list()` gives it: every workload naming it, and where they can land. */
export interface WorkloadImageUse {
  ref: string;
  pull: string;
  /** `namespace/Kind/name`, sorted. */
  workloads: string[];
  /** The distinct placements of those workloads; a node needs the image when one of them allows it (placement.ts). */
  placements: Placement[];
}
