import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { FerryError } from '../../src/errors.js';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  VERIFY_ERROR_CODES,
  attestationTag,
  parsePublicKeys,
  sbomTag,
  signatureTag,
  verifyCosignSignature,
  type CosignSignatureInput,
} from '../../src/verify/index.js';
import { cosignSignature, keyPair, ociManifest, sha256, simpleSigningPayload, SIMPLE_SIGNING, type CosignSignature, type KeyType } from '../support/supply-chain.js';

const IMAGE = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const REF = 'ghcr.io/org/app';
const TYPES: KeyType[] = ['ecdsa-p256', 'rsa', 'ed25519'];
const KEYS = Object.fromEntries(TYPES.map((k) => [k, keyPair(k)])) as Record<KeyType, ReturnType<typeof keyPair>>;

/** The verify input for a built signature: parsed manifest, its layers' bytes by digest. */
function input(sig: CosignSignature, keys: CosignSignatureInput['keys'], expectedDigest = IMAGE): CosignSignatureInput {
  return { manifest: JSON.parse(sig.manifest.toString()), payloads: new Map(sig.layers.map((l) => [l.digest, l.bytes])), keys, expectedDigest };
}

/** A copy of the built signature's manifest with its first layer changed. */
function withLayer(sig: CosignSignature, change: (layer: Record<string, any>) => void): Record<string, any> {
  const m = JSON.parse(sig.manifest.toString());
  change(m.layers[0]);
  return m;
}

t.test('a valid signature verifies, for each key type', async (t) => {
  for (const type of TYPES) {
    const sig = cosignSignature(IMAGE, REF, KEYS[type].privateKey);
    const r = verifyCosignSignature(input(sig, parsePublicKeys([KEYS[type].publicPem])));
    t.same(r, { ok: true, key: 0, layer: 0, dockerReference: REF, optional: undefined }, type);
  }
});

t.test('keys may be PEM strings or KeyObjects; the index of the key that verified is answered', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS.ed25519.privateKey);
  const r = verifyCosignSignature(input(sig, [KEYS['ecdsa-p256'].publicPem, KEYS.rsa.publicKey, KEYS.ed25519.publicPem]));
  t.match(r, { ok: true, key: 2 });
});

t.test('the payload + layer shorthand: one layer, with its bytes', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS['ecdsa-p256'].privateKey);
  const keys = [KEYS['ecdsa-p256'].publicKey];
  const manifest = JSON.parse(sig.manifest.toString());
  t.match(verifyCosignSignature({ manifest, payload: sig.layers[0]!.bytes, keys, expectedDigest: IMAGE }), { ok: true });
  t.match(verifyCosignSignature({ manifest, payload: sig.layers[0]!.bytes, layer: manifest.layers[0], keys, expectedDigest: IMAGE }), { ok: true });
  const stray = { mediaType: SIMPLE_SIGNING, digest: OTHER, size: 1 };
  t.match(verifyCosignSignature({ manifest, payload: sig.layers[0]!.bytes, layer: stray, keys, expectedDigest: IMAGE }), { ok: false, problem: 'bad-manifest', reason: /is not a .* layer of the signature manifest/ });
});

t.test('RSA: PKCS#1 v1.5 and PSS signatures both verify', async (t) => {
  for (const rsa of ['pkcs1', 'pss'] as const) {
    const sig = cosignSignature(IMAGE, REF, KEYS.rsa.privateKey, { rsa });
    t.match(verifyCosignSignature(input(sig, [KEYS.rsa.publicKey])), { ok: true, key: 0 }, rsa);
  }
  const pssKey = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256' });
  const sig = cosignSignature(IMAGE, REF, KEYS.rsa.privateKey, { rsa: 'pss' });
  t.match(verifyCosignSignature(input(sig, [pssKey.publicKey])), { ok: false, problem: 'bad-signature' }, 'an RSA-PSS key: not its signature');
  const own = cosignSignature(IMAGE, REF, pssKey.privateKey);
  t.match(verifyCosignSignature(input(own, [pssKey.publicKey.export({ type: 'spki', format: 'pem' }).toString()])), { ok: true }, 'an RSA-PSS (RSASSA-PSS SPKI) key verifies its own');
});

t.test('the wrong key: bad signature', async (t) => {
  for (const type of TYPES) {
    const sig = cosignSignature(IMAGE, REF, keyPair(type).privateKey);
    const r = verifyCosignSignature(input(sig, [KEYS[type].publicKey]));
    t.match(r, { ok: false, problem: 'bad-signature', reason: 'the signature does not verify with the configured key' }, type);
  }
  const sig = cosignSignature(IMAGE, REF, keyPair('ed25519').privateKey);
  t.match(verifyCosignSignature(input(sig, TYPES.map((k) => KEYS[k].publicKey))), { ok: false, reason: /any of the 3 configured keys/ });
});

t.test('a tampered payload (the layer digest updated to match) does not verify', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS['ecdsa-p256'].privateKey);
  const tampered = Buffer.from(sig.layers[0]!.bytes.toString().replace(REF, 'evil.io/app'));
  const manifest = withLayer(sig, (l) => {
    l.digest = sha256(tampered);
    l.size = tampered.length;
  });
  const r = verifyCosignSignature({ manifest, payload: tampered, keys: [KEYS['ecdsa-p256'].publicKey], expectedDigest: IMAGE });
  t.match(r, { ok: false, problem: 'bad-signature' });
});

t.test('a signature of another image: signed for X, this is Y', async (t) => {
  const sig = cosignSignature(OTHER, REF, KEYS.ed25519.privateKey);
  const r = verifyCosignSignature(input(sig, [KEYS.ed25519.publicKey]));
  t.same(r, { ok: false, problem: 'digest-mismatch', reason: `signed for ${OTHER}, this is ${IMAGE}` });
});

t.test('bytes that are not the layer the manifest names: layer digest mismatch', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS.ed25519.privateKey);
  const other = simpleSigningPayload(IMAGE, 'x.io/y');
  const manifest = JSON.parse(sig.manifest.toString());
  const r = verifyCosignSignature({ manifest, payload: other, keys: [KEYS.ed25519.publicKey], expectedDigest: IMAGE });
  t.same(r, { ok: false, problem: 'layer-digest', reason: `the layer: its bytes are ${sha256(other)}, the manifest names ${sig.layers[0]!.digest}` });
  const wrongSize = withLayer(sig, (l) => (l.size = 3));
  t.match(verifyCosignSignature({ manifest: wrongSize, payload: sig.layers[0]!.bytes, keys: [KEYS.ed25519.publicKey], expectedDigest: IMAGE }), { ok: false, problem: 'layer-digest', reason: /the manifest says 3/ });
  t.match(verifyCosignSignature({ manifest, payloads: {}, keys: [KEYS.ed25519.publicKey], expectedDigest: IMAGE }), { ok: false, problem: 'missing-blob' });
});

t.test('a layer without the signature annotation, or with garbage base64', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS.ed25519.privateKey);
  const keys = [KEYS.ed25519.publicKey];
  const payload = sig.layers[0]!.bytes;
  const bare = withLayer(sig, (l) => delete l.annotations);
  t.match(verifyCosignSignature({ manifest: bare, payload, keys, expectedDigest: IMAGE }), { ok: false, problem: 'no-annotation', reason: new RegExp(`no ${COSIGN_SIGNATURE_ANNOTATION} annotation`) });
  for (const garbage of ['not base64!', '', 'abc', 'Zm9v=Zm9v']) {
    const m = withLayer(sig, (l) => (l.annotations[COSIGN_SIGNATURE_ANNOTATION] = garbage));
    t.match(verifyCosignSignature({ manifest: m, payload, keys, expectedDigest: IMAGE }), { ok: false, problem: 'bad-base64' }, JSON.stringify(garbage));
  }
  const truncated = withLayer(sig, (l) => (l.annotations[COSIGN_SIGNATURE_ANNOTATION] = Buffer.from('short').toString('base64')));
  t.match(verifyCosignSignature({ manifest: truncated, payload, keys: [KEYS['ecdsa-p256'].publicKey], expectedDigest: IMAGE }), { ok: false, problem: 'bad-signature' }, 'base64 that is no DER signature');
});

t.test('no signature layer at all, or not a manifest', async (t) => {
  const keys = [KEYS.ed25519.publicKey];
  const empty = JSON.parse(ociManifest([{ mediaType: 'application/octet-stream', bytes: Buffer.from('x') }]).manifest.toString());
  t.match(verifyCosignSignature({ manifest: empty, payloads: {}, keys, expectedDigest: IMAGE }), {
    ok: false,
    problem: 'no-signature',
    reason: `no signature layer: the signature manifest has 1 layer(s), none of mediaType ${SIMPLE_SIGNING}`,
  });
  t.match(verifyCosignSignature({ manifest: { schemaVersion: 2 }, keys, expectedDigest: IMAGE }), { ok: false, problem: 'bad-manifest' });
  t.match(verifyCosignSignature({ manifest: null, keys, expectedDigest: IMAGE }), { ok: false, problem: 'bad-manifest' });
  t.match(verifyCosignSignature({ manifest: empty, keys, expectedDigest: 'latest' }), { ok: false, problem: 'bad-digest' });
});

t.test('the payload must be cosign simple signing of the exact type', async (t) => {
  const k = KEYS.ed25519;
  const wrongType = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': REF }, image: { 'docker-manifest-digest': IMAGE }, type: 'Cosign Container Image Signature ' } }));
  t.match(verifyCosignSignature(input(cosignSignature(IMAGE, REF, k.privateKey, { payload: wrongType }), [k.publicKey])), { ok: false, problem: 'wrong-type', reason: /not "cosign container image signature"/ });
  for (const p of ['not json', '{"critical":1}', '[]']) {
    t.match(verifyCosignSignature(input(cosignSignature(IMAGE, REF, k.privateKey, { payload: Buffer.from(p) }), [k.publicKey])), { ok: false, problem: 'bad-payload' }, p);
  }
});

t.test('several layers are several signatures: ok when any verifies with any key', async (t) => {
  const a = KEYS['ecdsa-p256'];
  const b = KEYS.rsa;
  const sig = cosignSignature(IMAGE, REF, keyPair('ed25519').privateKey, { more: [{ privateKey: a.privateKey, imageDigest: OTHER }, { privateKey: b.privateKey }] });
  t.match(verifyCosignSignature(input(sig, [a.publicKey, b.publicKey])), { ok: true, key: 1, layer: 2 });
  const r = verifyCosignSignature(input(sig, [a.publicKey]));
  t.match(r, { ok: false, problem: 'bad-signature' }, 'the first layer\'s problem (an Ed25519 signature, an ECDSA key) leads');
  t.match(r, { reason: /^none of the 3 signatures verifies: layer 1 of 3: .*; layer 2 of 3: signed for sha256:b+, this is sha256:a+; layer 3 of 3: .*does not verify/ });
});

t.test('unsupported key types', async (t) => {
  const sig = cosignSignature(IMAGE, REF, KEYS.ed25519.privateKey);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
  const x25519 = generateKeyPairSync('x25519').publicKey;
  t.same(verifyCosignSignature(input(sig, [p384, x25519])), {
    ok: false,
    problem: 'unsupported-keys',
    reason: 'unsupported key type: key 1 is an ECDSA secp384r1 key, key 2 is an x25519 key; use ECDSA P-256, RSA or Ed25519 public keys',
  });
  t.match(verifyCosignSignature(input(sig, [])), { ok: false, problem: 'unsupported-keys', reason: 'no keys are configured' });
  t.match(verifyCosignSignature(input(sig, [p384, KEYS.rsa.publicKey])), { ok: false, problem: 'bad-signature', reason: 'the signature does not verify with the configured key' }, 'only the usable keys count');
});

t.test('parsePublicKeys: once, with an error naming the bad key', async (t) => {
  const keys = parsePublicKeys(TYPES.map((k) => KEYS[k].publicPem));
  t.same(keys.map((k) => k.asymmetricKeyType), ['ec', 'rsa', 'ed25519']);
  const bad = (pems: string[], label?: string): FerryError => {
    try {
      parsePublicKeys(pems, label);
    } catch (e) {
      return e as FerryError;
    }
    throw new Error('no error');
  };
  const notPem = bad([KEYS.rsa.publicPem, 'hello'], 'verify[0] key');
  t.equal(notPem.code, VERIFY_ERROR_CODES.KEY_INVALID);
  t.match(notPem.message, /^verify\[0\] key 2 of 2 is not a PEM public key/);
  t.match(notPem.hint, /BEGIN PUBLIC KEY/);
  const priv = KEYS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  t.match(bad([priv]).message, 'key 1 of 1 is a private key; configure the public key only');
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  t.match(bad([p384]).message, 'key 1 of 1 is an ECDSA secp384r1 key; cosign signatures are checked with ECDSA P-256, RSA or Ed25519 keys');
  t.throws(() => verifyCosignSignature({ manifest: {}, keys: ['junk'], expectedDigest: IMAGE }), { code: VERIFY_ERROR_CODES.KEY_INVALID }, 'a bad PEM given to verify throws too');
});

t.test('the cosign tags of a digest', async (t) => {
  t.equal(signatureTag(IMAGE), `sha256-${'a'.repeat(64)}.sig`);
  t.equal(attestationTag(IMAGE), `sha256-${'a'.repeat(64)}.att`);
  t.equal(sbomTag(IMAGE), `sha256-${'a'.repeat(64)}.sbom`);
  t.throws(() => signatureTag('latest'), TypeError);
});
