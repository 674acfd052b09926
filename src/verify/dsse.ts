/**
 * DSSE envelopes (cosign attest, in-toto): `{ payloadType, payload (base64),
 * signatures: [{ keyid, sig }] }`, each signature over
 * PAE(payloadType, payload) = "DSSEv1 <len> <type> <len> <payload>". The
 * payload of an attestation is an in-toto Statement whose subjects must name
 * the image. Cosign stores attestations as the tag `sha256-<hex>.att`: an OCI
 * manifest whose layers are envelopes.
 */
import { decodeBase64, isObject, parseJson } from './encoding.js';
import { findKey, toKeyObjects, type PublicKeyInput } from './keys.js';
import { firstValidLayer, type LayerBlobs } from './layers.js';
import { badDigest, fail, splitDigest, type NotVerified } from './result.js';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_TYPES: readonly string[] = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];

/** DSSE's pre-authentication encoding: what is signed. Lengths are byte lengths. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export interface DsseVerified {
  ok: true;
  /** Index in `keys` of the key that verified. */
  key: number;
  /** Index in the envelope's `signatures` of the signature that verified. */
  signature: number;
  payloadType: string;
  payload: Buffer;
}

/** Is any signature of the envelope one of `keys` made? Says nothing of what the payload claims. */
export function verifyDsseEnvelope(envelopeJson: unknown, keys: readonly PublicKeyInput[]): DsseVerified | NotVerified {
  const env = parseJson(envelopeJson);
  if (!isObject(env) || typeof env.payloadType !== 'string' || typeof env.payload !== 'string' || !Array.isArray(env.signatures)) {
    return fail('bad-envelope', 'not a DSSE envelope ({ payloadType, payload, signatures })');
  }
  const payload = decodeBase64(env.payload, true);
  if (!payload) return fail('bad-base64', 'the DSSE payload is not base64');
  const sigs = env.signatures.map((s) => (isObject(s) ? s.sig : undefined));
  if (sigs.length === 0) return fail('bad-envelope', 'the DSSE envelope has no signatures');
  const objects = toKeyObjects(keys);
  const signed = pae(env.payloadType, payload);
  let last: NotVerified | undefined;
  for (const [i, s] of sigs.entries()) {
    const sig = decodeBase64(s, true);
    if (!sig) {
      last ??= fail('bad-base64', `DSSE signature ${i + 1} is not base64`);
      continue;
    }
    const m = findKey(objects, signed, sig);
    if (m.ok) return { ok: true, key: m.key, signature: i, payloadType: env.payloadType, payload };
    if (m.reason === 'unsupported-keys') return fail(m.reason, m.detail);
    last = fail(m.reason, sigs.length === 1 ? m.detail : `none of the ${sigs.length} DSSE signatures verifies with the configured keys`);
  }
  return last!;
}

export interface AttestationVerified extends DsseVerified {
  /** The statement's predicateType, e.g. https://slsa.dev/provenance/v1. */
  predicateType: string;
  predicate: unknown;
  statement: Record<string, unknown>;
}

export interface AttestationOptions {
  /** Only an attestation of this predicate type counts. */
  predicateType?: string;
}

/**
 * Is the envelope an in-toto attestation, signed by one of `keys`, about the
 * image `expectedDigest` (a subject whose digest names it)?
 */
export function verifyDsseAttestation(envelopeJson: unknown, keys: readonly PublicKeyInput[], expectedDigest: string, opts: AttestationOptions = {}): AttestationVerified | NotVerified {
  const want = splitDigest(expectedDigest);
  if (!want) return badDigest(expectedDigest);
  const env = verifyDsseEnvelope(envelopeJson, keys);
  if (!env.ok) return env;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return fail('wrong-type', `the DSSE payloadType is ${JSON.stringify(env.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  const st = parseJson(env.payload);
  if (!isObject(st) || !Array.isArray(st.subject) || typeof st.predicateType !== 'string') {
    return fail('bad-payload', 'the DSSE payload is not an in-toto Statement ({ _type, subject, predicateType, predicate })');
  }
  if (!IN_TOTO_STATEMENT_TYPES.includes(st._type as string)) return fail('wrong-type', `the statement _type is ${JSON.stringify(st._type)}, not an in-toto Statement`);
  if (opts.predicateType !== undefined && st.predicateType !== opts.predicateType) {
    return fail('wrong-type', `the attestation's predicateType is ${st.predicateType}, not ${opts.predicateType}`);
  }
  const attested = st.subject.flatMap((s) => {
    const d = isObject(s) && isObject(s.digest) ? s.digest[want.algorithm] : undefined;
    return typeof d === 'string' ? [d.toLowerCase()] : [];
  });
  if (!attested.includes(want.hex)) {
    const named = attested.length ? attested.map((h) => `${want.algorithm}:${h}`).join(', ') : `no ${want.algorithm} subject`;
    return fail('digest-mismatch', `attested for ${named}, this is ${expectedDigest}`);
  }
  return { ...env, predicateType: st.predicateType, predicate: st.predicate, statement: st };
}

export interface CosignAttestationInput extends LayerBlobs, AttestationOptions {
  keys: readonly PublicKeyInput[];
  expectedDigest: string;
}

/** A cosign `.att` manifest: ok when any envelope layer is a valid attestation (of `predicateType`, when given) of the image. */
export function verifyCosignAttestation(input: CosignAttestationInput): (AttestationVerified & { layer: number }) | NotVerified {
  if (!splitDigest(input.expectedDigest)) return badDigest(input.expectedDigest);
  const keys = toKeyObjects(input.keys);
  const r = firstValidLayer(input, DSSE_MEDIA_TYPE, 'attestation', (bytes) => {
    const a = verifyDsseAttestation(bytes, keys, input.expectedDigest, input);
    return a.ok ? { ok: true, value: a } : a;
  });
  return r.ok ? { ...r.value, layer: r.layer } : r;
}
