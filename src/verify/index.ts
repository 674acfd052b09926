/**
 * Supply-chain verification, pure (node:crypto, no I/O): cosign signatures
 * (`sha256-<hex>.sig`), DSSE / in-toto attestations (`.att`), against
 * configured public keys. Fetching the manifests and blobs is the caller's;
 * every verify function answers `{ ok: true, key }` or `{ ok: false, problem,
 * reason }` with a reason fit for an image record or a pod denial.
 */
export {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  attestationTag,
  sbomTag,
  signatureTag,
  verifyCosignSignature,
  type CosignSignatureInput,
  type CosignVerified,
} from './cosign.js';
export {
  DSSE_MEDIA_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPES,
  pae,
  verifyCosignAttestation,
  verifyDsseAttestation,
  verifyDsseEnvelope,
  type AttestationOptions,
  type AttestationVerified,
  type CosignAttestationInput,
  type DsseVerified,
} from './dsse.js';
export { VERIFY_ERROR_CODES, VERIFY_ERROR_TABLE } from './errors.js';
export { describeKey, keyKind, parsePublicKeys, type KeyKind, type PublicKeyInput } from './keys.js';
export type { LayerBlobs, LayerDescriptor } from './layers.js';
export type { NotVerified, VerifyProblem } from './result.js';
