/**
 * Supply-chain artifacts built in-process, as cosign and OCI 1.1 tools make
 * them: key pairs, cosign signatures (`sha256-<hex>.sig`), DSSE attestations
 * (`.att`), SBOM referrers (`subject` + `artifactType`), and a push of any of
 * them to a real registry (test/support/registry.ts) over plain HTTP.
 */
import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export type KeyType = 'ecdsa-p256' | 'rsa' | 'ed25519';

export interface KeyPair {
  type: KeyType;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM, what a `verify:` entry holds (cosign.pub). */
  publicPem: string;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export function keyPair(type: KeyType): KeyPair {
  const { privateKey, publicKey } =
    type === 'ecdsa-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { type, privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export interface SignOptions {
  /** RSA padding (default pkcs1, as `cosign sign` with an RSA key). */
  rsa?: 'pkcs1' | 'pss';
}

/** A signature as cosign makes it: ECDSA SHA-256 DER, RSA SHA-256 PKCS#1 v1.5 or PSS, Ed25519. */
export function signBytes(privateKey: KeyObject, data: Buffer, opts: SignOptions = {}): Buffer {
  switch (privateKey.asymmetricKeyType) {
    case 'ec':
      return sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    case 'rsa-pss':
      return sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'rsa':
      return opts.rsa === 'pss'
        ? sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    default:
      return sign(null, data, privateKey);
  }
}

export interface Blob {
  digest: string;
  bytes: Buffer;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Artifact {
  /** The exact manifest bytes pushed. */
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  /** Config and layer blobs, each once. */
  blobs: Blob[];
}

const EMPTY_CONFIG = Buffer.from('{}');

function blob(bytes: Buffer): Blob {
  return { digest: sha256(bytes), bytes };
}

/** An OCI image manifest with the empty config and `layers`, optionally an OCI 1.1 `artifactType` / `subject`. */
export function ociManifest(layers: { mediaType: string; bytes: Buffer; annotations?: Record<string, string> }[], extra: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> } = {}): Artifact {
  const config = blob(EMPTY_CONFIG);
  const blobs = [config, ...layers.map((l) => blob(l.bytes))];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
      config: { mediaType: OCI_EMPTY, digest: config.digest, size: EMPTY_CONFIG.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.bytes), size: l.bytes.length, ...(l.annotations ? { annotations: l.annotations } : {}) })),
      ...(extra.subject ? { subject: extra.subject } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    }),
  );
  const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
  return { manifest, manifestDigest: sha256(manifest), mediaType: OCI_MANIFEST, blobs: unique };
}

/** Cosign's simple-signing payload for `imageDigest`. */
export function simpleSigningPayload(imageDigest: string, dockerReference: string, optional: Record<string, unknown> | null = null): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': imageDigest }, type: 'cosign container image signature' },
      optional,
    }),
  );
}

export interface CosignSignatureOptions extends SignOptions {
  /** The payload to sign instead of the simple-signing one for imageDigest. */
  payload?: Buffer;
  /** More signatures (layers) after the first: one per key. */
  more?: { privateKey: KeyObject; imageDigest?: string }[];
}

export interface CosignSignature extends Artifact {
  /** The simple-signing layer(s): payload bytes, descriptor and base64 signature. */
  layers: (Descriptor & { bytes: Buffer; signature: string })[];
}

/** A cosign `.sig` manifest: one simple-signing layer per signature, signed by `privateKey`. */
export function cosignSignature(imageDigest: string, dockerReference: string, privateKey: KeyObject, opts: CosignSignatureOptions = {}): CosignSignature {
  const signers = [{ privateKey, imageDigest, payload: opts.payload }, ...(opts.more ?? []).map((m) => ({ privateKey: m.privateKey, imageDigest: m.imageDigest ?? imageDigest, payload: undefined }))];
  const layers = signers.map((s) => {
    const bytes = s.payload ?? simpleSigningPayload(s.imageDigest, dockerReference);
    const signature = signBytes(s.privateKey, bytes, opts).toString('base64');
    return { mediaType: SIMPLE_SIGNING, digest: sha256(bytes), size: bytes.length, annotations: { [SIGNATURE_ANNOTATION]: signature }, bytes, signature };
  });
  return { ...ociManifest(layers), layers };
}

/** DSSE's pre-authentication encoding, written out independently of src/verify. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

export interface DsseOptions extends SignOptions {
  /** The statement to sign instead of the in-toto Statement v1 for imageDigest. */
  statement?: unknown;
  payloadType?: string;
}

export interface DsseAttestation extends Artifact {
  /** The envelope JSON bytes (the layer). */
  envelope: Buffer;
  statement: unknown;
}

/** An in-toto Statement v1 about `imageDigest`, in a DSSE envelope signed by `privateKey`, in a cosign `.att` manifest. */
export function dsseAttestation(imageDigest: string, predicateType: string, predicate: unknown, privateKey: KeyObject, opts: DsseOptions = {}): DsseAttestation {
  const statement = opts.statement ?? {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'image', digest: { sha256: imageDigest.replace(/^sha256:/, '') } }],
    predicateType,
    predicate,
  };
  const payloadType = opts.payloadType ?? 'application/vnd.in-toto+json';
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = signBytes(privateKey, dssePae(payloadType, payload), opts).toString('base64');
  const envelope = Buffer.from(JSON.stringify({ payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig }] }));
  const art = ociManifest([{ mediaType: DSSE_ENVELOPE, bytes: envelope, annotations: { 'dev.sigstore.cosign/predicateType': predicateType } }]);
  return { ...art, envelope, statement };
}

/** An OCI 1.1 referrer: `artifactType` + `subject`, one layer of `content`. */
export function sbomArtifact(subject: { mediaType: string; digest: string; size: number }, artifactType = 'application/spdx+json', content: Buffer | string = '{"spdxVersion":"SPDX-2.3"}'): Artifact {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return ociManifest([{ mediaType: artifactType, bytes }], { artifactType, subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } });
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);
}

/** One blob: HEAD (skip when present), POST an upload, PUT its bytes with `?digest=` (monolithic). */
export async function pushBlob(registryHost: string, repo: string, b: Blob): Promise<void> {
  const base = `http://${registryHost}/v2/${repo}`;
  const head = await fetch(`${base}/blobs/${b.digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(start, [202], `POST ${repo} upload`);
  const loc = new URL(start.headers.get('location') ?? '', `http://${registryHost}`);
  loc.searchParams.set('digest', b.digest);
  const put = await fetch(loc, { method: 'PUT', body: new Uint8Array(b.bytes), headers: { 'content-type': 'application/octet-stream', 'content-length': String(b.bytes.length) } });
  await expectStatus(put, [201], `PUT ${repo} blob ${b.digest}`);
}

/** Pushes the artifact's blobs, then its manifest under `tag` (or by digest), with its media type as Content-Type. Returns the manifest digest. */
export async function pushArtifact(registryHost: string, repo: string, artifact: Artifact, tag?: string): Promise<string> {
  for (const b of artifact.blobs) await pushBlob(registryHost, repo, b);
  const res = await fetch(`http://${registryHost}/v2/${repo}/manifests/${tag ?? artifact.manifestDigest}`, {
    method: 'PUT',
    body: new Uint8Array(artifact.manifest),
    headers: { 'content-type': artifact.mediaType },
  });
  await expectStatus(res, [201], `PUT ${repo} manifest ${tag ?? artifact.manifestDigest}`);
  const digest = res.headers.get('docker-content-digest');
  if (digest && digest !== artifact.manifestDigest) throw new Error(`the registry stored ${digest}, the manifest is ${artifact.manifestDigest}`);
  return artifact.manifestDigest;
}

const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** GET a manifest (by tag or digest) with the OCI and Docker Accept types: its bytes, digest and media type, or undefined on 404. */
export async function fetchManifest(registryHost: string, repo: string, ref: string): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any } | undefined> {
  const res = await fetch(`http://${registryHost}/v2/${repo}/manifests/${ref}`, { headers: { accept: MANIFEST_ACCEPT } });
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET ${repo} manifest ${ref}: HTTP ${res.status} ${await res.text()}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, digest: sha256(bytes), mediaType: res.headers.get('content-type') ?? '', json: JSON.parse(bytes.toString('utf8')) };
}

/** GET a blob's bytes. */
export async function fetchBlob(registryHost: string, repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`http://${registryHost}/v2/${repo}/blobs/${digest}`);
  if (res.status !== 200) throw new Error(`GET ${repo} blob ${digest}: HTTP ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}
