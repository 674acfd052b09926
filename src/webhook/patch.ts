import fastJsonPatch from 'fast-json-patch';
import { ANNOTATION_ORIGINAL_IMAGES, type ImageList, type PodDecision } from '../policy/index.js';
import type { Pod } from './admission.js';

const { compare } = fastJsonPatch;
type Operation = ReturnType<typeof compare>[number];

const LISTS: ImageList[] = ['containers', 'initContainers', 'ephemeralContainers', 'volumes'];

/**
 * The fields ferry may change, as the list item has them (absent stays
 * absent): a container's `image` and `imagePullPolicy`, an image volume's
 * `image.reference` and `image.pullPolicy`.
 */
function touchable(list: ImageList, item: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof item !== 'object' || item === null) return out;
  if (list === 'volumes') {
    const image = (item as { image?: unknown }).image;
    if (typeof image !== 'object' || image === null) return out;
    const sub: Record<string, unknown> = {};
    if ('reference' in image) sub.reference = image.reference;
    if ('pullPolicy' in image) sub.pullPolicy = image.pullPolicy;
    out.image = sub;
    return out;
  }
  if ('image' in item) out.image = item.image;
  if ('imagePullPolicy' in item) out.imagePullPolicy = item.imagePullPolicy;
  return out;
}

function previousOriginals(annotations: Record<string, string> | undefined): Record<string, string> {
  try {
    const v = JSON.parse(annotations?.[ANNOTATION_ORIGINAL_IMAGES] ?? '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/**
 * Builds the JSONPatch for a decision. fast-json-patch diffs only what ferry
 * may touch (see touchable, plus the annotations), so it never walks env,
 * volume sources or resources, yet the paths are exact pod paths
 * (`/spec/containers/1/image`, `/spec/volumes/0/image/reference`), `/` in the
 * annotation key is escaped (`ferry.io~1original-images`), and a pod without
 * `metadata.annotations` gets the whole map added.
 */
export function buildPatch(pod: Pod, decision: PodDecision, opts: { annotate: boolean }): Operation[] {
  const changed = decision.images.filter((d) => d.image !== undefined || d.pullPolicy !== undefined);
  if (changed.length === 0) return [];
  const spec = pod.spec ?? {};
  const before: { spec: Record<string, unknown>; metadata?: { annotations?: Record<string, string> } } = { spec: {} };
  const after: typeof before = { spec: {} };
  for (const list of LISTS) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    before.spec[list] = items.map((item) => touchable(list, item));
    after.spec[list] = items.map((item) => touchable(list, item));
  }
  for (const d of changed) {
    const target = (after.spec[d.use.list] as Record<string, unknown>[])[d.use.index]!;
    if (d.use.list === 'volumes') {
      const image = target.image as Record<string, unknown>;
      if (d.image !== undefined) image.reference = d.image;
      if (d.pullPolicy !== undefined) image.pullPolicy = d.pullPolicy;
      continue;
    }
    if (d.image !== undefined) target.image = d.image;
    if (d.pullPolicy !== undefined) target.imagePullPolicy = d.pullPolicy;
  }
  if (opts.annotate && Object.keys(decision.originalImages).length > 0) {
    const annotations = pod.metadata?.annotations;
    // Reinvocation, a later ephemeral container, a pod UPDATE: entries for other
    // images stay; an image rewritten now records what it was now.
    const merged = { ...previousOriginals(annotations), ...decision.originalImages };
    before.metadata = annotations ? { annotations } : {};
    after.metadata = { annotations: { ...(annotations ?? {}), [ANNOTATION_ORIGINAL_IMAGES]: JSON.stringify(merged) } };
  }
  return compare(before, after);
}
