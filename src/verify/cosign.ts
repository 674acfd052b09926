/**
 * Cosign signatures (`cosign sign --key`): the tag `sha256-<hex>.sig` next to
 * an image holds an OCI manifest whose simple-signing layers are each a JSON
 * payload naming the image digest, signed in the layer's
 * `dev.cosignproject.cosign/signature` annotation (base64). The signature is
 * checked first, then what it claims: the payload type and the digest.
 */
import { decodeBase64, isObject, parseJson } from './encoding.js';
import { firstValidLayer, type LayerBlobs } from './layers.js';
import { findKey, toKeyObjects, type PublicKeyInput } from './keys.js';
import { badDigest, fail, splitDigest, type NotVerified } from './result.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

function cosignTag(digest: string, suffix: 'sig' | 'att' | 'sbom'): string {
  const d = splitDigest(digest);
  if (!d) throw new TypeError(`not a digest: ${digest}`);
  return `${d.algorithm}-${d.hex}.${suffix}`;
}

/** `sha256:<hex>` -> `sha256-<hex>.sig`, where cosign puts an image's signatures. */
export const signatureTag = (digest: string): string => cosignTag(digest, 'sig');
/** `sha256:<hex>` -> `sha256-<hex>.att`, where cosign puts an image's attestations. */
export const attestationTag = (digest: string): string => cosignTag(digest, 'att');
/** `sha256:<hex>` -> `sha256-<hex>.sbom`, where cosign puts an attached SBOM. */
export const sbomTag = (digest: string): string => cosignTag(digest, 'sbom');

export interface CosignSignatureInput extends LayerBlobs {
  /** Public keys: parsed once with parsePublicKeys (PEM strings are parsed here, and a bad one throws FERRY_ERR_VERIFY_KEY_INVALID). */
  keys: readonly PublicKeyInput[];
  /** The digest of the image the signature must be for. */
  expectedDigest: string;
}

export interface CosignVerified {
  ok: true;
  /** Index in `keys` of the key that verified. */
  key: number;
  /** Index, among the manifest's simple-signing layers, of the signature that verified. */
  layer: number;
  /** `critical.identity.docker-reference` of the payload: the repository the signer named. */
  dockerReference: string | undefined;
  /** The payload's `optional` claims (annotations given to `cosign sign -a`). */
  optional: Record<string, unknown> | undefined;
}

/** Checks one simple-signing payload and its signature against the keys. */
function checkSimpleSigning(payload: Buffer, annotations: Record<string, string> | undefined, keys: ReturnType<typeof toKeyObjects>, expectedDigest: string): { ok: true; value: Omit<CosignVerified, 'ok' | 'layer'> } | NotVerified {
  const b64 = annotations?.[COSIGN_SIGNATURE_ANNOTATION];
  if (typeof b64 !== 'string') return fail('no-annotation', `the layer has no ${COSIGN_SIGNATURE_ANNOTATION} annotation: it carries no signature`);
  const sig = decodeBase64(b64);
  if (!sig) return fail('bad-base64', `the ${COSIGN_SIGNATURE_ANNOTATION} annotation is not base64`);
  const match = findKey(keys, payload, sig);
  if (!match.ok) return fail(match.reason, match.detail);
  const json = parseJson(payload);
  const critical = isObject(json) && isObject(json.critical) ? json.critical : undefined;
  if (!critical || !isObject(critical.image)) return fail('bad-payload', 'the signed payload is not cosign simple-signing JSON ({ critical: { identity, image, type } })');
  if (critical.type !== COSIGN_SIGNATURE_TYPE) return fail('wrong-type', `the signed payload is of type ${JSON.stringify(critical.type)}, not "${COSIGN_SIGNATURE_TYPE}"`);
  const signed = critical.image['docker-manifest-digest'];
  if (signed !== expectedDigest) return fail('digest-mismatch', `signed for ${typeof signed === 'string' ? signed : JSON.stringify(signed)}, this is ${expectedDigest}`);
  const identity = isObject(critical.identity) ? critical.identity['docker-reference'] : undefined;
  return {
    ok: true,
    value: {
      key: match.key,
      dockerReference: typeof identity === 'string' ? identity : undefined,
      optional: json && isObject(json) && isObject(json.optional) ? json.optional : undefined,
    },
  };
}

/**
 * Does a cosign `.sig` manifest hold a signature, by one of `keys`, of the
 * image `expectedDigest`? Ok when any simple-signing layer verifies with any
 * key; otherwise the reason (every layer's, when there are several).
 */
export function verifyCosignSignature(input: CosignSignatureInput): CosignVerified | NotVerified {
  if (!splitDigest(input.expectedDigest)) return badDigest(input.expectedDigest);
  const keys = toKeyObjects(input.keys);
  const r = firstValidLayer(input, SIMPLE_SIGNING_MEDIA_TYPE, 'signature', (bytes, layer) => checkSimpleSigning(bytes, layer.annotations, keys, input.expectedDigest));
  return r.ok ? { ok: true, layer: r.layer, ...r.value } : r;
}
