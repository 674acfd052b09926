import { defineErrors } from '../errors.js';

/**
 * Every error code raised by `src/verify`. A signature that does not verify
 * is not an error but an answer (`{ ok: false, reason }`); what is raised is a
 * configured key ferry cannot use, found once, when the keys are parsed.
 */
export const VERIFY_ERROR_TABLE = defineErrors('VERIFY', {
  KEY_INVALID: {
    status: 500,
    meaning: 'a key of a `verify:` entry is not a PEM public key ferry can verify cosign signatures with',
    hint: 'give the PEM public key ("-----BEGIN PUBLIC KEY-----", e.g. cosign.pub from `cosign generate-key-pair`): ECDSA P-256, RSA or Ed25519; never the private key',
  },
});

export const VERIFY_ERROR_CODES = VERIFY_ERROR_TABLE.codes;
