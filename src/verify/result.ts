/** What every verify function answers: which key verified, or a reason a user can act on. */

/** Why nothing verified, as data (the gate may map some to a state, all to a message). */
export type VerifyProblem =
  /** expectedDigest is not `<algorithm>:<hex>` */
  | 'bad-digest'
  /** the signature / attestation manifest is not an image manifest with `layers` */
  | 'bad-manifest'
  /** no layer of the signature (or attestation) media type */
  | 'no-signature'
  /** a layer's blob bytes were not given */
  | 'missing-blob'
  /** the bytes given for a layer do not hash to its descriptor's digest (or size) */
  | 'layer-digest'
  /** a simple-signing layer without its `dev.cosignproject.cosign/signature` annotation */
  | 'no-annotation'
  /** a signature or payload that is not base64 */
  | 'bad-base64'
  /** no configured key verifies the signature */
  | 'bad-signature'
  /** no configured key is of a type cosign signs with */
  | 'unsupported-keys'
  /** the DSSE envelope is not `{ payloadType, payload, signatures: [{ sig }] }` */
  | 'bad-envelope'
  /** the signed payload is not the JSON it should be (simple signing, in-toto Statement) */
  | 'bad-payload'
  /** the payload's type is not the one expected (simple signing `type`, DSSE payloadType, predicateType) */
  | 'wrong-type'
  /** signed or attested for another image */
  | 'digest-mismatch';

export interface NotVerified {
  ok: false;
  problem: VerifyProblem;
  /** One sentence for the image record / pod denial, e.g. "signed for sha256:X, this is sha256:Y". */
  reason: string;
}

export function fail(problem: VerifyProblem, reason: string): NotVerified {
  return { ok: false, problem, reason };
}

/** `algorithm:hex` of a digest, or undefined. */
export function splitDigest(digest: unknown): { algorithm: string; hex: string } | undefined {
  const m = typeof digest === 'string' ? /^([a-z0-9]+):([a-f0-9]{32,})$/.exec(digest) : null;
  return m ? { algorithm: m[1]!, hex: m[2]! } : undefined;
}

export function badDigest(expectedDigest: unknown): NotVerified {
  return fail('bad-digest', `cannot verify for ${JSON.stringify(expectedDigest)}: the image digest must be <algorithm>:<lowercase hex>, e.g. sha256:<64 hex>`);
}
