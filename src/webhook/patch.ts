import fastJsonPatch from 'fast-json-patch';
import { ANNOTATION_ORIGINAL_IMAGES, type PodDecision } from '../policy/index.js';
import type { Pod } from './admission.js';

const { escapePathComponent } = fastJsonPatch;
type Operation = fastJsonPatch.AddOperation<unknown> | fastJsonPatch.ReplaceOperation<unknown>;

/** The annotation's JSON Pointer (`/` in its key escaped: `ferry.io~1original-images`). */
const ORIGINALS_PATH = `/metadata/annotations/${escapePathComponent(ANNOTATION_ORIGINAL_IMAGES)}`;

function previousOriginals(annotations: Record<string, string> | undefined): Record<string, string> {
  try {
    const v = JSON.parse(annotations?.[ANNOTATION_ORIGINAL_IMAGES] ?? '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** `replace` where the field is there, `add` where it is absent; nothing when it already holds `value`. */
function setField(ops: Operation[], obj: Record<string, unknown>, key: string, path: string, value: string): void {
  if (key in obj) {
    if (obj[key] !== value) ops.push({ op: 'replace', path, value });
  } else {
    ops.push({ op: 'add', path, value });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Builds the JSONPatch for a decision: only the fields ferry may change, at
 * exact pod paths (`/spec/containers/1/image`,
 * `/spec/volumes/0/image/reference`); a container's `image` and
 * `imagePullPolicy`, an image volume's `image.reference` and
 * `image.pullPolicy`, and the original-images annotation (a pod without
 * `metadata.annotations` gets the whole map added). Env, volume sources and
 * resources are never read.
 *
 * The ops are written out, not diffed: fast-json-patch's `compare` of the
 * touchable fields (copied twice, walked key by key) was a third of the
 * admission decision's CPU (bench/webhook profile).
 */
export function buildPatch(pod: Pod, decision: PodDecision, opts: { annotate: boolean }): Operation[] {
  const ops: Operation[] = [];
  const spec = pod.spec ?? {};
  let changed = false;
  for (const d of decision.images) {
    if (d.image === undefined && d.pullPolicy === undefined) continue;
    changed = true;
    const { list, index } = d.use;
    const items = spec[list];
    const item: unknown = Array.isArray(items) ? items[index] : undefined;
    if (!isObject(item)) continue;
    const at = `/spec/${list}/${index}`;
    if (list === 'volumes') {
      const image = item.image;
      if (!isObject(image)) continue;
      if (d.image !== undefined) setField(ops, image, 'reference', `${at}/image/reference`, d.image);
      if (d.pullPolicy !== undefined) setField(ops, image, 'pullPolicy', `${at}/image/pullPolicy`, d.pullPolicy);
      continue;
    }
    if (d.image !== undefined) setField(ops, item, 'image', `${at}/image`, d.image);
    if (d.pullPolicy !== undefined) setField(ops, item, 'imagePullPolicy', `${at}/imagePullPolicy`, d.pullPolicy);
  }
  if (!changed || !opts.annotate || Object.keys(decision.originalImages).length === 0) return ops;
  const annotations = pod.metadata?.annotations;
  // Reinvocation, a later ephemeral container, a pod UPDATE: entries for other
  // images stay; an image rewritten now records what it was now.
  const value = JSON.stringify({ ...previousOriginals(annotations), ...decision.originalImages });
  if (isObject(annotations)) setField(ops, annotations, ANNOTATION_ORIGINAL_IMAGES, ORIGINALS_PATH, value);
  else ops.push({ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_ORIGINAL_IMAGES]: value } });
  return ops;
}
