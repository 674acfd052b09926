import fastJsonPatch from 'fast-json-patch';
import { ANNOTATION_ORIGINAL_IMAGES, type ContainerList, type PodDecision } from '../policy/index.js';
import type { Pod } from './admission.js';

const { compare } = fastJsonPatch;
type Operation = ReturnType<typeof compare>[number];

const LISTS: ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

/** The two fields ferry may change, as the container has them (absent stays absent). */
function touchable(c: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof c !== 'object' || c === null) return out;
  if ('image' in c) out.image = c.image;
  if ('imagePullPolicy' in c) out.imagePullPolicy = c.imagePullPolicy;
  return out;
}

/**
 * Builds the JSONPatch for a decision. fast-json-patch diffs only what ferry
 * may touch (each container's `image` and `imagePullPolicy`, the annotations),
 * so it never walks env, volumes or resources, yet the paths are exact pod
 * paths (`/spec/containers/1/image`), `/` in the annotation key is escaped
 * (`ferry.io~1original-images`), and a pod without `metadata.annotations`
 * gets the whole map added.
 */
export function buildPatch(pod: Pod, decision: PodDecision, opts: { annotate: boolean }): Operation[] {
  const changed = decision.containers.filter((d) => d.image !== undefined || d.pullPolicy !== undefined);
  if (changed.length === 0) return [];
  const spec = pod.spec ?? {};
  const before: { spec: Record<string, unknown>; metadata?: { annotations?: Record<string, string> } } = { spec: {} };
  const after: typeof before = { spec: {} };
  for (const list of LISTS) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    before.spec[list] = items.map(touchable);
    after.spec[list] = items.map(touchable);
  }
  for (const d of changed) {
    const target = (after.spec[d.container.list] as Record<string, unknown>[])[d.container.index]!;
    if (d.image !== undefined) target.image = d.image;
    if (d.pullPolicy !== undefined) target.imagePullPolicy = d.pullPolicy;
  }
  if (opts.annotate && Object.keys(decision.originalImages).length > 0) {
    const annotations = pod.metadata?.annotations;
    let previous: Record<string, string> = {};
    try {
      previous = JSON.parse(annotations?.[ANNOTATION_ORIGINAL_IMAGES] ?? '{}') as Record<string, string>;
    } catch {
      previous = {};
    }
    // Reinvocation or a later ephemeral container: keep what was recorded first.
    const merged = { ...decision.originalImages, ...previous };
    before.metadata = annotations ? { annotations } : {};
    after.metadata = { annotations: { ...(annotations ?? {}), [ANNOTATION_ORIGINAL_IMAGES]: JSON.stringify(merged) } };
  }
  return compare(before, after);
}
