/**
 * Which images this node pre-pulls: agent.prepull entries whose nodeSelector
 * this node's labels satisfy, plus (agent.prepullInUse) every image the
 * cluster's pods run, plus (agent.prepullWorkloads) the images of workloads
 * that can land here, each as the reference the runtime is asked for (the
 * mirror's; a workload image in a rewrite-off namespace as pods name it).
 * Pure: labels, in-use refs, workload images and the mirror mapping come in
 * as data.
 */
import type { PrepullImage } from '../config/types.js';
import { describeError } from '../errors.js';
import { normalizeReference } from '../reference/index.js';
import { selectorMatches as labelsSatisfy, type WorkloadImageUse } from '../workloads/index.js';
import type { PrepullState } from '../nodes/index.js';

export interface PlannedPull {
  /** Normalized upstream reference (`docker.io/library/nginx:1.27`). */
  image: string;
  /** What the runtime pulls: the mirror reference. */
  ref: string;
  source: PrepullState['source'];
}

export interface SkippedPull {
  image: string;
  reason: string;
}

export interface PlanInput {
  prepull: readonly PrepullImage[];
  /** The node's labels, or undefined when they are not known (no cluster, or not read yet). */
  labels: Readonly<Record<string, string>> | undefined;
  /** In-use refs (upstream form), when agent.prepullInUse. */
  inUse?: readonly string[];
  /** Workload images already chosen for this node (imagesForNode), when agent.prepullWorkloads: `pull` is pulled as is. */
  workloads?: readonly Pick<WorkloadImageUse, 'ref' | 'pull'>[];
  mirrorRefOf(normalizedRef: string): string;
}

export interface PullPlan {
  pulls: PlannedPull[];
  skipped: SkippedPull[];
}

/** Does `labels` hold every key=value of `selector`? An empty or missing selector matches every node. */
export function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean | undefined {
  if (Object.keys(selector ?? {}).length === 0) return true;
  if (!labels) return undefined;
  return labelsSatisfy(selector!, labels);
}

export function planPulls(input: PlanInput): PullPlan {
  const pulls: PlannedPull[] = [];
  const skipped: SkippedPull[] = [];
  const seen = new Set<string>();
  const add = (raw: string, source: PlannedPull['source'], pull?: string) => {
    let image: string;
    let ref: string;
    try {
      image = normalizeReference(raw);
      ref = pull ?? input.mirrorRefOf(image);
    } catch (e) {
      skipped.push({ image: raw, reason: `not an image reference: ${describeError(e)}` });
      return;
    }
    if (seen.has(ref)) return; // config first: an in-use image also listed keeps source 'config'
    seen.add(ref);
    pulls.push({ image, ref, source });
  };
  for (const p of input.prepull) {
    const match = selectorMatches(p.nodeSelector, input.labels);
    if (match === undefined) skipped.push({ image: p.image, reason: 'has a nodeSelector, and this node\'s labels are not known (no cluster configured, or the Node could not be read)' });
    else if (!match) skipped.push({ image: p.image, reason: 'nodeSelector does not match this node' });
    else add(p.image, 'config');
  }
  for (const r of input.inUse ?? []) add(r, 'in-use');
  for (const w of input.workloads ?? []) add(w.ref, 'workload', w.pull);
  return { pulls, skipped };
}
