/**
 * The part cosign's `.sig` and `.att` manifests share: an OCI image manifest
 * whose layers of one media type each carry one signed thing. Each such layer
 * is checked on its own (its blob must be the bytes its descriptor names);
 * the manifest verifies when any layer does.
 */
import { isObject, sha256Digest } from './encoding.js';
import { fail, type NotVerified } from './result.js';

export interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
}

/** The blobs of a signature / attestation manifest, and which layer to check. */
export interface LayerBlobs {
  /** The parsed manifest (the JSON of the `sha256-<hex>.sig` / `.att` tag). */
  manifest: unknown;
  /** The layer blob bytes, by digest: one per layer to check. */
  payloads?: ReadonlyMap<string, Buffer> | Readonly<Record<string, Buffer>>;
  /** Shorthand for one layer: its blob bytes (of `layer`, or of the manifest's only layer of the media type, or of the layer whose digest they hash to). */
  payload?: Buffer;
  /** With `payload`: the layer they are, the only one checked. */
  layer?: LayerDescriptor;
}

export type LayerCheck<T> = { ok: true; value: T } | NotVerified;

function lookup(payloads: LayerBlobs['payloads'], digest: string): Buffer | undefined {
  if (!payloads) return undefined;
  if (payloads instanceof Map) return payloads.get(digest);
  return Object.hasOwn(payloads, digest) ? (payloads as Record<string, Buffer>)[digest] : undefined;
}

const ordinal = (i: number, n: number): string => (n === 1 ? 'the layer' : `layer ${i + 1} of ${n}`);

/**
 * Runs `check` on each layer of `mediaType` (with its verified bytes) until
 * one passes; otherwise the failure, every layer's reason named when there are
 * several. `what` names the manifest in reasons ("signature", "attestation").
 */
export function firstValidLayer<T>(input: LayerBlobs, mediaType: string, what: string, check: (bytes: Buffer, layer: LayerDescriptor, index: number) => LayerCheck<T>): { ok: true; value: T; layer: number } | NotVerified {
  const m = input.manifest;
  if (!isObject(m) || !Array.isArray(m.layers)) return fail('bad-manifest', `the ${what} manifest is not an OCI image manifest with layers`);
  const all = m.layers.filter((l): l is LayerDescriptor => isObject(l) && typeof l.digest === 'string' && typeof l.mediaType === 'string');
  const ofType = all.filter((l) => l.mediaType === mediaType);
  if (ofType.length === 0) return fail('no-signature', `no ${what} layer: the ${what} manifest has ${m.layers.length} layer(s), none of mediaType ${mediaType}`);
  let scope = ofType.map((l, i) => ({ l, i }));
  if (input.layer) {
    scope = scope.filter((x) => x.l.digest === input.layer!.digest);
    if (scope.length === 0) return fail('bad-manifest', `${input.layer.digest} is not a ${mediaType} layer of the ${what} manifest`);
  }
  const payloadDigest = input.payload ? sha256Digest(input.payload) : undefined;
  const failures: NotVerified[] = [];
  for (const { l, i } of scope) {
    const where = ordinal(i, ofType.length);
    let bytes = lookup(input.payloads, l.digest);
    if (!bytes && input.payload && (input.layer || ofType.length === 1 || payloadDigest === l.digest)) bytes = input.payload;
    let r: LayerCheck<T>;
    if (!bytes) r = fail('missing-blob', `${where} (${l.digest}): its blob was not given`);
    else if (sha256Digest(bytes) !== l.digest) r = fail('layer-digest', `${where}: its bytes are ${sha256Digest(bytes)}, the manifest names ${l.digest}`);
    else if (typeof l.size === 'number' && l.size !== bytes.length) r = fail('layer-digest', `${where}: its blob has ${bytes.length} bytes, the manifest says ${l.size}`);
    else r = check(bytes, l, i);
    if (r.ok) return { ok: true, value: r.value, layer: i };
    failures.push(ofType.length === 1 || r.reason.startsWith(where) ? r : fail(r.problem, `${where}: ${r.reason}`));
  }
  if (failures.length === 1) return failures[0]!;
  return fail(failures[0]!.problem, `none of the ${failures.length} ${what}s verifies: ${failures.map((f) => f.reason).join('; ')}`);
}
