import t from 'tap';
import { DSSE_MEDIA_TYPE, pae, parsePublicKeys, verifyCosignAttestation, verifyDsseAttestation, verifyDsseEnvelope } from '../../src/verify/index.js';
import { dsseAttestation, dssePae, keyPair, ociManifest, signBytes, type KeyType } from '../support/supply-chain.js';

const IMAGE = `sha256:${'c'.repeat(64)}`;
const OTHER = `sha256:${'d'.repeat(64)}`;
const SLSA = 'https://slsa.dev/provenance/v1';
const PREDICATE = { buildDefinition: { buildType: 'https://example.com/build' } };
const TYPES: KeyType[] = ['ecdsa-p256', 'rsa', 'ed25519'];
const KEYS = Object.fromEntries(TYPES.map((k) => [k, keyPair(k)])) as Record<KeyType, ReturnType<typeof keyPair>>;

const envelopeOf = (att: { envelope: Buffer }): Record<string, any> => JSON.parse(att.envelope.toString());

t.test('PAE is "DSSEv1 <len> <type> <len> <payload>", lengths in bytes', async (t) => {
  t.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world', 'the DSSE spec example');
  const payload = Buffer.from('héllo');
  t.same(pae('tÿpe', payload), dssePae('tÿpe', payload));
  t.equal(pae('tÿpe', payload).toString(), 'DSSEv1 5 tÿpe 6 héllo');
});

t.test('a valid attestation verifies, for each key type; envelope as bytes, string or object', async (t) => {
  for (const type of TYPES) {
    const att = dsseAttestation(IMAGE, SLSA, PREDICATE, KEYS[type].privateKey);
    const keys = parsePublicKeys([KEYS[type].publicPem]);
    for (const env of [att.envelope, att.envelope.toString(), envelopeOf(att)]) {
      const r = verifyDsseAttestation(env, keys, IMAGE);
      t.match(r, { ok: true, key: 0, signature: 0, payloadType: 'application/vnd.in-toto+json', predicateType: SLSA, predicate: PREDICATE }, `${type}, ${typeof env}`);
    }
  }
});

t.test('RSA PSS and PKCS#1 v1.5', async (t) => {
  for (const rsa of ['pss', 'pkcs1'] as const) {
    const att = dsseAttestation(IMAGE, SLSA, PREDICATE, KEYS.rsa.privateKey, { rsa });
    t.match(verifyDsseAttestation(att.envelope, [KEYS.rsa.publicKey], IMAGE), { ok: true }, rsa);
  }
});

t.test('the wrong key', async (t) => {
  for (const type of TYPES) {
    const att = dsseAttestation(IMAGE, SLSA, PREDICATE, keyPair(type).privateKey);
    t.match(verifyDsseAttestation(att.envelope, [KEYS[type].publicKey], IMAGE), { ok: false, problem: 'bad-signature', reason: 'the signature does not verify with the configured key' }, type);
  }
});

t.test('a tampered payload (or payloadType) does not verify', async (t) => {
  const att = dsseAttestation(IMAGE, SLSA, PREDICATE, KEYS['ecdsa-p256'].privateKey);
  const env = envelopeOf(att);
  const st = JSON.parse(Buffer.from(env.payload, 'base64').toString());
  st.predicate = { evil: true };
  const keys = [KEYS['ecdsa-p256'].publicKey];
  t.match(verifyDsseAttestation({ ...env, payload: Buffer.from(JSON.stringify(st)).toString('base64') }, keys, IMAGE), { ok: false, problem: 'bad-signature' });
  t.match(verifyDsseAttestation({ ...env, payloadType: 'application/json' }, keys, IMAGE), { ok: false, problem: 'bad-signature' }, 'the type is signed too (PAE)');
});

t.test('an attestation about another image: attested for X, this is Y', async (t) => {
  const att = dsseAttestation(OTHER, SLSA, PREDICATE, KEYS.ed25519.privateKey);
  t.same(verifyDsseAttestation(att.envelope, [KEYS.ed25519.publicKey], IMAGE), { ok: false, problem: 'digest-mismatch', reason: `attested for ${OTHER}, this is ${IMAGE}` });
  const several = dsseAttestation(IMAGE, SLSA, PREDICATE, KEYS.ed25519.privateKey, {
    statement: { _type: 'https://in-toto.io/Statement/v0.1', predicateType: SLSA, predicate: {}, subject: [{ name: 'a', digest: { sha256: 'd'.repeat(64) } }, { name: 'b', digest: { sha256: 'c'.repeat(64) } }] },
  });
  t.match(verifyDsseAttestation(several.envelope, [KEYS.ed25519.publicKey], IMAGE), { ok: true }, 'any subject may name it (Statement v0.1 too)');
  const noSha = dsseAttestation(IMAGE, SLSA, PREDICATE, KEYS.ed25519.privateKey, { statement: { _type: 'https://in-toto.io/Statement/v1', predicateType: SLSA, subject: [{ digest: { sha512: 'e'.repeat(128) } }] } });
  t.match(verifyDsseAttestation(noSha.envelope, [KEYS.ed25519.publicKey], IMAGE), { ok: false, problem: 'digest-mismatch', reason: `attested for no sha256 subject, this is ${IMAGE}` });
});

t.test('what the payload must be: in-toto JSON, a Statement, of the wanted predicate', async (t) => {
  const k = KEYS.ed25519;
  const keys = [k.publicKey];
  const wrongPayloadType = dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey, { payloadType: 'application/json' });
  t.match(verifyDsseAttestation(wrongPayloadType.envelope, keys, IMAGE), { ok: false, problem: 'wrong-type', reason: /payloadType is "application\/json"/ });
  const notStatement = dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey, { statement: { hello: 1 } });
  t.match(verifyDsseAttestation(notStatement.envelope, keys, IMAGE), { ok: false, problem: 'bad-payload' });
  const wrongStatementType = dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey, { statement: { _type: 'x', subject: [], predicateType: SLSA } });
  t.match(verifyDsseAttestation(wrongStatementType.envelope, keys, IMAGE), { ok: false, problem: 'wrong-type', reason: /_type is "x"/ });
  const att = dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey);
  t.match(verifyDsseAttestation(att.envelope, keys, IMAGE, { predicateType: SLSA }), { ok: true });
  t.match(verifyDsseAttestation(att.envelope, keys, IMAGE, { predicateType: 'https://spdx.dev/Document' }), { ok: false, problem: 'wrong-type', reason: `the attestation's predicateType is ${SLSA}, not https://spdx.dev/Document` });
});

t.test('malformed envelopes and garbage base64', async (t) => {
  const k = KEYS['ecdsa-p256'];
  const keys = [k.publicKey];
  const env = envelopeOf(dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey));
  for (const bad of ['not json', '{}', { payloadType: 'x', payload: 'eA==' }, null, []]) {
    t.match(verifyDsseEnvelope(bad, keys), { ok: false, problem: 'bad-envelope' }, JSON.stringify(bad));
  }
  t.match(verifyDsseEnvelope({ ...env, signatures: [] }, keys), { ok: false, problem: 'bad-envelope', reason: 'the DSSE envelope has no signatures' });
  t.match(verifyDsseEnvelope({ ...env, payload: '***' }, keys), { ok: false, problem: 'bad-base64', reason: 'the DSSE payload is not base64' });
  t.match(verifyDsseEnvelope({ ...env, signatures: [{ keyid: '', sig: '%%%' }] }, keys), { ok: false, problem: 'bad-base64', reason: 'DSSE signature 1 is not base64' });
  t.match(verifyDsseEnvelope({ ...env, signatures: [{}] }, keys), { ok: false, problem: 'bad-base64' });
  const urlSafe = { ...env, payload: Buffer.from(env.payload, 'base64').toString('base64url'), signatures: [{ sig: Buffer.from(env.signatures[0].sig, 'base64').toString('base64url') }] };
  t.match(verifyDsseAttestation(urlSafe, keys, IMAGE), { ok: true }, 'DSSE allows URL-safe base64');
  t.match(verifyDsseAttestation(env, keys, 'sha256:nothex'), { ok: false, problem: 'bad-digest' });
});

t.test('several signatures: any one by any key', async (t) => {
  const a = KEYS['ecdsa-p256'];
  const b = KEYS.ed25519;
  const env = envelopeOf(dsseAttestation(IMAGE, SLSA, PREDICATE, a.privateKey));
  const payload = Buffer.from(env.payload, 'base64');
  const second = signBytes(b.privateKey, dssePae(env.payloadType, payload)).toString('base64');
  const two = { ...env, signatures: [...env.signatures, { keyid: 'b', sig: second }] };
  t.match(verifyDsseAttestation(two, [b.publicKey], IMAGE), { ok: true, key: 0, signature: 1 });
  t.match(verifyDsseAttestation(two, [KEYS.rsa.publicKey], IMAGE), { ok: false, problem: 'bad-signature', reason: 'none of the 2 DSSE signatures verifies with the configured keys' });
});

t.test('a cosign .att manifest: its envelope layers, each checked against its digest', async (t) => {
  const k = KEYS.rsa;
  const att = dsseAttestation(IMAGE, SLSA, PREDICATE, k.privateKey);
  const manifest = JSON.parse(att.manifest.toString());
  t.match(verifyCosignAttestation({ manifest, payload: att.envelope, keys: [k.publicPem], expectedDigest: IMAGE }), { ok: true, key: 0, layer: 0, predicateType: SLSA });
  t.match(verifyCosignAttestation({ manifest, payload: att.envelope, keys: [k.publicKey], expectedDigest: IMAGE, predicateType: 'https://cyclonedx.org/bom' }), { ok: false, problem: 'wrong-type' });
  t.match(verifyCosignAttestation({ manifest, payload: Buffer.from('{}'), keys: [k.publicKey], expectedDigest: IMAGE }), { ok: false, problem: 'layer-digest' });
  t.match(verifyCosignAttestation({ manifest, payload: att.envelope, keys: [k.publicKey], expectedDigest: OTHER }), { ok: false, problem: 'digest-mismatch' });
  const none = JSON.parse(ociManifest([{ mediaType: 'application/octet-stream', bytes: att.envelope }]).manifest.toString());
  t.match(verifyCosignAttestation({ manifest: none, payload: att.envelope, keys: [k.publicKey], expectedDigest: IMAGE }), { ok: false, problem: 'no-signature', reason: new RegExp(`no attestation layer: .*${DSSE_MEDIA_TYPE.replace(/[.+]/g, '\\$&')}`) });
  const other = dsseAttestation(OTHER, SLSA, PREDICATE, k.privateKey);
  const both = JSON.parse(ociManifest([{ mediaType: DSSE_MEDIA_TYPE, bytes: other.envelope }, { mediaType: DSSE_MEDIA_TYPE, bytes: att.envelope }]).manifest.toString());
  t.match(verifyCosignAttestation({ manifest: both, payloads: { [other.blobs[1]!.digest]: other.envelope, [att.blobs[1]!.digest]: att.envelope }, keys: [k.publicKey], expectedDigest: IMAGE }), { ok: true, layer: 1 });
});
