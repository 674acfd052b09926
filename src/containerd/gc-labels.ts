/**
 * The labels containerd's garbage collector follows. Content reachable from
 * an image record stays; everything else is collected once no lease holds it.
 * An image record points at its target; from there the collector follows
 * `containerd.io/gc.ref.content.*` labels of the content (a manifest to its
 * config and layers, an index to its manifests) and
 * `containerd.io/gc.ref.snapshot.<snapshotter>` of a config to the unpacked
 * top snapshot (which holds its parents). These are the labels `ctr images
 * import` and a CRI pull set. Pure: no I/O.
 */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const GC_REF_CONTENT = 'containerd.io/gc.ref.content';
export const GC_REF_SNAPSHOT = 'containerd.io/gc.ref.snapshot';
export const GC_EXPIRE = 'containerd.io/gc.expire';
export const LABEL_UNCOMPRESSED = 'containerd.io/uncompressed';
/** The CRI plugin lists, and never garbage-collects on its own, images labelled so. */
export const CRI_MANAGED = { key: 'io.cri-containerd.image', value: 'managed' } as const;

function digestOf(v: unknown): string | undefined {
  return isRecord(v) && typeof v.digest === 'string' ? v.digest : undefined;
}

/** `gc.ref.content.*` labels of a manifest (`config`, `l.<i>`) or an index (`m.<i>`). */
export function contentRefLabels(manifest: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(manifest)) return out;
  if (Array.isArray(manifest.manifests)) {
    manifest.manifests.forEach((m, i) => {
      const d = digestOf(m);
      if (d) out[`${GC_REF_CONTENT}.m.${i}`] = d;
    });
    return out;
  }
  const c = digestOf(manifest.config);
  if (c) out[`${GC_REF_CONTENT}.config`] = c;
  if (Array.isArray(manifest.layers)) {
    manifest.layers.forEach((l, i) => {
      const d = digestOf(l);
      if (d) out[`${GC_REF_CONTENT}.l.${i}`] = d;
    });
  }
  return out;
}

/** The labels of `want` that `have` lacks or holds with another value. */
export function missingLabels(have: Readonly<Record<string, string>> | undefined, want: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have?.[k] !== v));
}
