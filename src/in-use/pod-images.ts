/**
 * What a pod runs, as the in-use index keeps it: one PodImage per container,
 * init container, ephemeral container and image volume. Pure (no I/O); a
 * malformed pod or entry is skipped, never thrown on, because the pod watch
 * feeds it whatever the API server holds.
 *
 * The index speaks upstream references: a container the webhook rewrote to
 * the mirror is mapped back through `ferry.io/original-images` (which keeps
 * the reference as the pod author wrote it, before any digest pinning), else
 * through the mirror path (reference/mirror.ts), so a record's ref finds the
 * pods that run it however they name it.
 */
import { ANNOTATION_ORIGINAL_IMAGES, originalImagesKey, type ImageList } from '../policy/index.js';
import {
  type ImageReference,
  type MirrorOptions,
  formatReference,
  fromMirrorImageReference,
  isMirrorReference,
  repositoryOf,
  tryParseReference,
} from '../reference/index.js';
import type { PodImage } from './types.js';

/** The parts of a Pod read here (a V1Pod fits); everything is checked at run time. */
export interface PodLike {
  metadata?: { namespace?: unknown; name?: unknown; annotations?: unknown } | undefined;
  spec?: unknown;
  status?: unknown;
}

const CONTAINER_LISTS = [
  ['containers', 'containerStatuses'],
  ['initContainers', 'initContainerStatuses'],
  ['ephemeralContainers', 'ephemeralContainerStatuses'],
] as const;

/** A digest as go-digest writes one: `algorithm:encoded`. */
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

interface ParsedImage {
  /** Normalized upstream reference (mapped back from the mirror path when it is one). */
  ref: string;
  /** The upstream repository (`docker.io/library/nginx`). */
  repository: string;
  inMirror: boolean;
  parsed: ImageReference;
}

// Parse + mirror mapping per image string, per mirror: a cluster names a few thousand
// images across tens of thousands of pods, and every pod update passes through here.
const CACHE_LIMIT = 20_000;
const caches = new Map<string, Map<string, ParsedImage | null>>();

function cacheFor(mirror: MirrorOptions): Map<string, ParsedImage | null> {
  const key = `${mirror.registry}\n${mirror.prefix ?? ''}`;
  let c = caches.get(key);
  if (!c) {
    if (caches.size >= 8) caches.clear();
    c = new Map();
    caches.set(key, c);
  }
  return c;
}

function inMirrorSafe(r: ImageReference, mirror: MirrorOptions): boolean {
  try {
    return isMirrorReference(r, mirror);
  } catch {
    return false; // unusable mirror config: nothing is in the mirror
  }
}

function parseImage(image: string, mirror: MirrorOptions): ParsedImage | null {
  const cache = cacheFor(mirror);
  const hit = cache.get(image);
  if (hit !== undefined) return hit;
  let out: ParsedImage | null = null;
  const r = tryParseReference(image);
  if (!(r instanceof Error)) {
    const inMirror = inMirrorSafe(r, mirror);
    // In the mirror registry but outside ferry's layout (pushed by hand): it is its own ref.
    const upstream = (inMirror ? fromMirrorImageReference(r, mirror) : undefined) ?? r;
    out = { ref: formatReference(upstream), repository: repositoryOf(upstream), inMirror, parsed: r };
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(image, out);
  return out;
}

/** The tag a reference names (`latest` when it names neither tag nor digest); undefined for a bare digest. */
function tagOf(r: ImageReference): string | undefined {
  return r.tag ?? (r.digest ? undefined : 'latest');
}

/**
 * Whether `original` (from the annotation) is what the mirror image `image`
 * was made from: the same repository, and the same tag when both name one
 * (ferry keeps the tag and may add a digest). An image edited by hand since,
 * to another tag of the same repository included, keeps its own path.
 */
function madeFrom(image: ParsedImage, original: ParsedImage): boolean {
  if (original.repository.toLowerCase() !== image.repository.toLowerCase()) return false;
  const a = tagOf(original.parsed);
  const b = tagOf(image.parsed);
  return a === undefined || b === undefined || a === b;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function originalImages(annotations: unknown): Record<string, unknown> {
  const raw = asRecord(annotations)?.[ANNOTATION_ORIGINAL_IMAGES];
  if (typeof raw !== 'string') return {};
  try {
    return asRecord(JSON.parse(raw)) ?? {};
  } catch {
    return {};
  }
}

/**
 * The manifest digest in a CRI `imageID`: `docker-pullable://repo@sha256:…`
 * or `repo@sha256:…`. A bare `sha256:…` is the runtime's image (config) ID,
 * not a manifest digest, so it says nothing here.
 */
export function digestOfImageId(imageId: unknown): string | null {
  if (typeof imageId !== 'string') return null;
  const at = imageId.lastIndexOf('@');
  if (at < 0) return null;
  const d = imageId.slice(at + 1);
  return DIGEST_RE.test(d) ? d : null;
}

/**
 * Whether a container status describes the spec's image: after an in-place
 * image update the status names the old image until the container restarts.
 * Runtimes spell `status.image` differently (tag dropped for pinned images, an
 * image ID), so only a clear contradiction counts.
 */
function statusMatches(spec: ImageReference, statusImage: unknown): boolean {
  if (typeof statusImage !== 'string') return true;
  const s = tryParseReference(statusImage);
  if (s instanceof Error) return true;
  if (repositoryOf(s) !== repositoryOf(spec)) return false;
  if (s.tag && spec.tag && s.tag !== spec.tag) return false;
  return !(s.digest && spec.digest && s.digest !== spec.digest);
}

/** Container name -> its status, for one status list. */
function statusesByName(list: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!Array.isArray(list)) return out;
  for (const s of list) {
    const r = asRecord(s);
    if (r && typeof r.name === 'string') out.set(r.name, r);
  }
  return out;
}

/** Every image `pod` names, mapped to upstream refs, with the digest each runs when known. */
export function podImages(pod: PodLike | null | undefined, mirror: MirrorOptions): PodImage[] {
  const namespace = pod?.metadata?.namespace;
  const name = pod?.metadata?.name;
  const spec = asRecord(pod?.spec);
  if (typeof namespace !== 'string' || typeof name !== 'string' || !spec) return [];
  const status = asRecord(pod?.status);
  const node = typeof spec.nodeName === 'string' && spec.nodeName !== '' ? spec.nodeName : null;
  const originals = originalImages(pod?.metadata?.annotations);
  const out: PodImage[] = [];

  const add = (list: ImageList, itemName: string, image: string, status?: Record<string, unknown>) => {
    const parsed = parseImage(image, mirror);
    if (!parsed) return;
    const container = originalImagesKey({ list, name: itemName });
    const original = originals[container];
    // The annotation counts only for the mirror image ferry wrote: one edited by hand since keeps its own path.
    const annotated = parsed.inMirror && typeof original === 'string' ? parseImage(original, mirror) : null;
    const fromAnnotation = annotated && madeFrom(parsed, annotated) ? annotated : null;
    const fromStatus = status && statusMatches(parsed.parsed, status.image) ? digestOfImageId(status.imageID) : null;
    out.push({
      namespace,
      pod: name,
      container,
      list,
      node,
      image,
      ref: fromAnnotation?.ref ?? parsed.ref,
      digest: fromStatus ?? parsed.parsed.digest ?? null,
      rewritten: fromAnnotation !== null,
    });
  };

  for (const [list, statusList] of CONTAINER_LISTS) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    const statuses = statusesByName(status?.[statusList]);
    for (const item of items) {
      const c = asRecord(item);
      if (!c || typeof c.name !== 'string' || typeof c.image !== 'string') continue;
      add(list, c.name, c.image, statuses.get(c.name));
    }
  }
  if (Array.isArray(spec.volumes)) {
    for (const item of spec.volumes) {
      const v = asRecord(item);
      const reference = asRecord(v?.image)?.reference;
      if (!v || typeof v.name !== 'string' || typeof reference !== 'string') continue;
      add('volumes', v.name, reference);
    }
  }
  return out;
}
