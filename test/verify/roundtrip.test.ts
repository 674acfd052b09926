/**
 * The builders against a real docker-registry 2.8: an image, its cosign
 * signature (`.sig`), attestation (`.att`) and an OCI 1.1 SBOM referrer,
 * pushed, read back with Accept headers as a client would, and verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { attestationTag, parsePublicKeys, signatureTag, verifyCosignAttestation, verifyCosignSignature } from '../../src/verify/index.js';
import { buildImage, pushImage } from '../support/images.js';
import { startRegistry } from '../support/registry.js';
import { cosignSignature, dsseAttestation, fetchBlob, fetchManifest, keyPair, pushArtifact, sbomArtifact, OCI_MANIFEST } from '../support/supply-chain.js';

const registry = await startRegistry();
const layout = mkdtempSync(join(tmpdir(), 'ferry-sc-'));
t.teardown(async () => {
  await registry.stop();
  rmSync(layout, { recursive: true, force: true });
});

const REPO = 'org/app';
const image = buildImage(layout, { tag: 'v1' });
await pushImage(layout, 'v1', `${registry.host}/${REPO}:v1`);
const signer = keyPair('ecdsa-p256');
const stranger = keyPair('ecdsa-p256');

/** A manifest and its layer blobs, as read back from the registry. */
async function readBack(ref: string): Promise<{ manifest: any; payloads: Map<string, Buffer> }> {
  const m = await fetchManifest(registry.host, REPO, ref);
  if (!m) throw new Error(`${ref} is not in the registry`);
  const payloads = new Map<string, Buffer>();
  for (const l of m.json.layers) payloads.set(l.digest, await fetchBlob(registry.host, REPO, l.digest));
  return { manifest: m.json, payloads };
}

t.test('a cosign signature pushed under sha256-<hex>.sig verifies with the signer\'s key only', async (t) => {
  const sig = cosignSignature(image.digest, `${registry.host}/${REPO}`, signer.privateKey);
  const digest = await pushArtifact(registry.host, REPO, sig, signatureTag(image.digest));
  const got = await fetchManifest(registry.host, REPO, signatureTag(image.digest));
  t.equal(got?.digest, digest, 'the exact manifest bytes landed');
  t.equal(got?.mediaType, OCI_MANIFEST);
  const back = await readBack(signatureTag(image.digest));
  t.match(verifyCosignSignature({ ...back, keys: parsePublicKeys([signer.publicPem]), expectedDigest: image.digest }), { ok: true, key: 0, dockerReference: `${registry.host}/${REPO}` });
  t.match(verifyCosignSignature({ ...back, keys: parsePublicKeys([stranger.publicPem]), expectedDigest: image.digest }), { ok: false, problem: 'bad-signature' });
});

t.test('an attestation pushed under sha256-<hex>.att verifies with the signer\'s key only', async (t) => {
  const att = dsseAttestation(image.digest, 'https://slsa.dev/provenance/v1', { builder: { id: 'test' } }, signer.privateKey);
  await pushArtifact(registry.host, REPO, att, attestationTag(image.digest));
  const back = await readBack(attestationTag(image.digest));
  t.match(verifyCosignAttestation({ ...back, keys: [signer.publicKey], expectedDigest: image.digest }), { ok: true, predicateType: 'https://slsa.dev/provenance/v1' });
  t.match(verifyCosignAttestation({ ...back, keys: [stranger.publicKey], expectedDigest: image.digest }), { ok: false, problem: 'bad-signature' });
});

t.test('an OCI 1.1 SBOM referrer pushed by digest keeps its subject and artifactType', async (t) => {
  const sbom = sbomArtifact({ mediaType: OCI_MANIFEST, digest: image.digest, size: image.size });
  const digest = await pushArtifact(registry.host, REPO, sbom);
  const got = await fetchManifest(registry.host, REPO, digest);
  t.equal(got?.digest, digest);
  t.match(got?.json, { artifactType: 'application/spdx+json', subject: { digest: image.digest, size: image.size }, layers: [{ mediaType: 'application/spdx+json' }] });
  t.same(await fetchBlob(registry.host, REPO, sbom.blobs[1]!.digest), sbom.blobs[1]!.bytes);
});
