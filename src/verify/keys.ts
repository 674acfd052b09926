/**
 * Public keys and the one question asked of them: does this signature over
 * these bytes verify? Cosign's algorithms only: ECDSA P-256 with SHA-256 (an
 * ASN.1/DER signature, as cosign and Go's crypto/ecdsa make it), RSA with
 * SHA-256 (PKCS#1 v1.5 or PSS, whichever the signature is) and Ed25519.
 */
import { createPublicKey, constants, verify, type KeyObject } from 'node:crypto';
import { VERIFY_ERROR_TABLE } from './errors.js';

/** A key as configured (PEM text) or already parsed. */
export type PublicKeyInput = KeyObject | string;

/** The key families cosign signs with; anything else cannot verify. */
export type KeyKind = 'ecdsa-p256' | 'rsa' | 'rsa-pss' | 'ed25519';

/** What a key is, in words for a reason: "ECDSA P-384", "rsa", "x25519". */
export function describeKey(key: KeyObject): string {
  const t = key.asymmetricKeyType ?? key.type;
  if (t === 'ec') return `ECDSA ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}`;
  return t;
}

/** The kind of a public key cosign's signatures can be checked with, or undefined. */
export function keyKind(key: KeyObject): KeyKind | undefined {
  if (key.type !== 'public') return undefined;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ecdsa-p256' : undefined;
    case 'rsa':
      return 'rsa';
    case 'rsa-pss':
      return 'rsa-pss';
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

/**
 * Parses configured PEM public keys once (config load), so that verifying
 * does no parsing. Throws FERRY_ERR_VERIFY_KEY_INVALID naming the key (its
 * 1-based position, and `label` when given, e.g. the `verify:` entry) that is
 * not PEM, is a private key, or is of a type cosign does not sign with.
 */
export function parsePublicKeys(pems: readonly PublicKeyInput[], label = 'key'): KeyObject[] {
  return pems.map((pem, i) => parseOne(pem, `${label} ${i + 1} of ${pems.length}`));
}

function parseOne(pem: PublicKeyInput, which: string): KeyObject {
  if (typeof pem === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw VERIFY_ERROR_TABLE.create('KEY_INVALID', `${which} is a private key; configure the public key only`);
  }
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPublicKey({ key: pem, format: 'pem' }) : pem;
  } catch (e) {
    throw VERIFY_ERROR_TABLE.create('KEY_INVALID', `${which} is not a PEM public key: ${(e as Error).message}`, { cause: e });
  }
  if (key.type !== 'public') throw VERIFY_ERROR_TABLE.create('KEY_INVALID', `${which} is a ${key.type} key, not a public key`);
  if (keyKind(key) === undefined) {
    throw VERIFY_ERROR_TABLE.create('KEY_INVALID', `${which} is an ${describeKey(key)} key; cosign signatures are checked with ECDSA P-256, RSA or Ed25519 keys`);
  }
  return key;
}

/**
 * What the verify functions do with their `keys`: PEM strings parsed (a bad
 * one throws like {@link parsePublicKeys}), KeyObjects kept as they are (one
 * of a type cosign does not sign with then answers "unsupported key type").
 */
export function toKeyObjects(keys: readonly PublicKeyInput[]): KeyObject[] {
  return keys.map((k, i) => (typeof k === 'string' ? parseOne(k, `key ${i + 1} of ${keys.length}`) : k));
}

/** Does `signature` over `data` verify with `key`? `'unsupported'` when the key cannot verify cosign signatures at all. */
export function verifyBytes(key: KeyObject, data: Buffer, signature: Buffer): boolean | 'unsupported' {
  const kind = keyKind(key);
  try {
    switch (kind) {
      case 'ecdsa-p256':
        return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return (
          verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature) ||
          verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature)
        );
      case 'rsa-pss':
        // an RSASSA-PSS key carries its own parameters (hash, minimum salt length); OpenSSL refuses others
        return verify('sha256', data, key, signature);
      case 'ed25519':
        return verify(null, data, key, signature);
      default:
        return 'unsupported';
    }
  } catch {
    // OpenSSL throws on a malformed signature (bad DER, wrong length): that is a signature that does not verify.
    return false;
  }
}

export type KeyMatch = { ok: true; key: number } | { ok: false; reason: 'bad-signature' | 'unsupported-keys'; detail: string };

/** The first key `signature` verifies with, by index; or why none does. */
export function findKey(keys: readonly KeyObject[], data: Buffer, signature: Buffer): KeyMatch {
  const unsupported: string[] = [];
  for (const [i, key] of keys.entries()) {
    const r = verifyBytes(key, data, signature);
    if (r === true) return { ok: true, key: i };
    if (r === 'unsupported') unsupported.push(`key ${i + 1} is ${key.type === 'public' ? `an ${describeKey(key)}` : `a ${key.type}`} key`);
  }
  if (keys.length === 0) return { ok: false, reason: 'unsupported-keys', detail: 'no keys are configured' };
  if (unsupported.length === keys.length) {
    return { ok: false, reason: 'unsupported-keys', detail: `unsupported key type: ${unsupported.join(', ')}; use ECDSA P-256, RSA or Ed25519 public keys` };
  }
  const n = keys.length - unsupported.length;
  return { ok: false, reason: 'bad-signature', detail: `the signature does not verify with ${n === 1 ? 'the configured key' : `any of the ${n} configured keys`}` };
}
