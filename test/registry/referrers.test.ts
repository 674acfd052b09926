import { createHash } from 'node:crypto';
import t from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, pushTestImages, testConfig, type TestImages } from './support/fixtures.js';
import { startReferrersProxy } from './support/referrers-proxy.js';
import { startFaultProxy } from './support/faultproxy.js';
import { updateFallbackIndex } from '../../src/registry/referrers-index.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(Buffer.from('{}')), size: 2 };
const SPDX = 'application/spdx+json';
const SIG_ART = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

let upstream: TestRegistry;
let mirror: TestRegistry;
let imgs: TestImages;

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}
const tagOf = (d: string) => d.replace(':', '-');

// -------------------------------------------------------- raw pushes (upstream)

async function pushBlob(host: string, repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const head = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return { digest, size: bytes.length };
  const post = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await post.arrayBuffer();
  const loc = new URL(post.headers.get('location')!, `http://${host}/`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'Content-Type': 'application/octet-stream' } });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`blob PUT ${put.status}`);
  return { digest, size: bytes.length };
}

async function pushManifest(host: string, repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'Content-Type': mediaType } });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${ref} ${res.status} ${body}`);
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

async function getIndex(host: string, repo: string, tag: string): Promise<any | undefined> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: OCI_INDEX } });
  const body = await res.text();
  return res.status === 200 ? JSON.parse(body) : undefined;
}

async function tagsOf(host: string, repo: string): Promise<string[]> {
  const res = await fetch(`http://${host}/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags?: string[] }).tags ?? [];
}

/** An OCI artifact manifest with a subject, its empty config and one layer. */
async function pushArtifact(host: string, repo: string, opts: { artifactType: string; content: string; subject?: { mediaType: string; digest: string; size: number }; tag?: string }) {
  await pushBlob(host, repo, Buffer.from('{}'));
  const layer = await pushBlob(host, repo, Buffer.from(opts.content));
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: opts.artifactType,
    config: EMPTY,
    layers: [{ mediaType: opts.artifactType === SPDX ? SPDX : 'application/octet-stream', ...layer }],
    ...(opts.subject ? { subject: opts.subject } : {}),
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'test.content': opts.content.slice(0, 20) },
  };
  const bytes = Buffer.from(JSON.stringify(m));
  const d = await pushManifest(host, repo, sha256(bytes), bytes, OCI_MANIFEST);
  return { ...d, artifactType: opts.artifactType, annotations: m.annotations };
}

/** A cosign-style `.sig` tag (simplesigning layer, signature annotation) on `subject`. */
async function pushCosignSig(host: string, repo: string, subject: string) {
  const payload = Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': subject }, type: 'cosign container image signature' } }));
  const layer = await pushBlob(host, repo, payload);
  const config = await pushBlob(host, repo, Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [sha256(payload)] }, config: {} })));
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: SIMPLESIGNING, ...layer, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ-fake' } }],
  };
  const bytes = Buffer.from(JSON.stringify(m));
  return pushManifest(host, repo, `${tagOf(subject)}.sig`, bytes, OCI_MANIFEST);
}

async function pushFallbackIndex(host: string, repo: string, subject: string, descs: object[]) {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descs }));
  return pushManifest(host, repo, tagOf(subject), bytes, OCI_INDEX);
}

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  imgs = buildTestImages([20_000, 30_000]);
  // one repository after the other (overlapping blobs in parallel can 500 on 2.8)
  for (const repo of ['plain/app', 'signed/app', 'conc/app']) await pushTestImages(imgs, upstream.host, repo);
});
t.teardown(async () => {
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  imgs?.cleanup();
});

const engineFor = () => new RegistryEngine({ config: testConfig() });

t.test('no referrers: none found, at most the referrers API call per digest (+1 tags/list)', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const digests = [imgs.index.digest, imgs.amd64.digest, imgs.arm64.digest, imgs.armv7.digest];
  const res = await engine.copyReferrers({ src: `${upstream.host}/plain/app`, dst: `${mirror.host}/plain/app`, digests });
  t.same(res.found, []);
  t.equal(res.copied, 0);
  t.ok(res.requests <= 1 + 2 * digests.length, `requests ${res.requests} for ${digests.length} digests`);
  t.comment(`no referrers: ${res.requests} requests for ${digests.length} digests`);
});

t.test('cosign .sig, SBOM (fallback tag) and a signature of the SBOM: all copied byte for byte', async (t) => {
  const H = upstream.host;
  const repo = 'signed/app';
  const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: imgs.amd64.digest, size: imgs.amd64.size };
  const sig = await pushCosignSig(H, repo, subject.digest);
  const sbom = await pushArtifact(H, repo, { artifactType: SPDX, content: '{"spdxVersion":"SPDX-2.3","name":"app"}', subject });
  await pushFallbackIndex(H, repo, subject.digest, [{ mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.size, artifactType: SPDX, annotations: sbom.annotations }]);
  const sbomSig = await pushArtifact(H, repo, { artifactType: SIG_ART, content: 'signature-of-sbom', subject: { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.size } });
  await pushFallbackIndex(H, repo, sbom.digest, [{ mediaType: sbomSig.mediaType, digest: sbomSig.digest, size: sbomSig.size, artifactType: SIG_ART }]);

  const engine = engineFor();
  t.teardown(() => engine.close());
  await engine.copy({ src: `${H}/${repo}:v1`, dst: `${mirror.host}/${repo}:v1` });
  const res = await engine.copyReferrers({ src: `${H}/${repo}`, dst: `${mirror.host}/${repo}`, digests: [subject.digest] });
  t.comment(`signed image, first copy: ${res.requests} requests, ${res.copied} referrers copied`);
  const by = (d: string) => res.found.find((f) => f.digest === d);
  t.match(by(sig.digest), { via: 'cosign-tag', tag: `${tagOf(subject.digest)}.sig`, artifactType: SIMPLESIGNING, depth: 0, copied: true });
  t.match(by(sbom.digest), { via: 'fallback-tag', artifactType: SPDX, subject: subject.digest, depth: 0, copied: true });
  t.match(by(sbomSig.digest), { via: 'fallback-tag', artifactType: SIG_ART, subject: sbom.digest, depth: 1, copied: true });
  t.equal(res.found.length, 3);
  t.equal(res.copied, 3);

  for (const d of [sig.digest, sbom.digest, sbomSig.digest]) {
    const up = await inspectRaw(`${H}/${repo}@${d}`);
    const mi = await inspectRaw(`${mirror.host}/${repo}@${d}`);
    t.equal(mi?.digest, up?.digest, `byte-identical ${d.slice(0, 19)}`);
  }
  t.equal((await inspectRaw(`${mirror.host}/${repo}:${tagOf(subject.digest)}.sig`))?.digest, sig.digest, 'cosign tag re-tagged in the mirror');
  const idx = await getIndex(mirror.host, repo, tagOf(subject.digest));
  t.same(idx?.manifests?.map((d: any) => [d.digest, d.artifactType]), [[sbom.digest, SPDX]], "mirror's fallback index lists the SBOM");
  t.same(idx?.manifests?.[0]?.annotations, sbom.annotations, 'annotations kept');
  const idx2 = await getIndex(mirror.host, repo, tagOf(sbom.digest));
  t.same(idx2?.manifests?.map((d: any) => d.digest), [sbomSig.digest], "the SBOM's fallback index lists its signature");

  const again = await engine.copyReferrers({ src: `${H}/${repo}`, dst: `${mirror.host}/${repo}`, digests: [subject.digest] });
  t.equal(again.copied, 0, 'second copy pushes nothing');
  t.equal(again.found.length, 3);
  t.comment(`signed image, up to date: ${again.requests} requests`);
});

t.test('artifactTypes: only the wanted type is copied', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const repo = 'filtered/app';
  const res = await engine.copyReferrers({ src: `${upstream.host}/signed/app`, dst: `${mirror.host}/${repo}`, digests: [imgs.amd64.digest], artifactTypes: [SPDX] });
  t.same(res.found.map((f) => f.artifactType), [SPDX]);
  t.equal(res.copied, 1);
  const tags = await tagsOf(mirror.host, repo);
  t.same(tags, [tagOf(imgs.amd64.digest)], 'only the fallback index tag, no .sig');
});

t.test("a referrer manifest PUT the mirror answers with its link-read race (DIGEST_INVALID + MANIFEST_BLOB_UNKNOWN) is sent again", async (t) => {
  const H = upstream.host;
  const repo = 'linkrace/app';
  const subject = { mediaType: OCI_MANIFEST, digest: imgs.amd64.digest, size: imgs.amd64.size };
  const a = await pushArtifact(H, repo, { artifactType: 'application/vnd.example.a', content: 'race', subject });
  await pushFallbackIndex(H, repo, subject.digest, [{ mediaType: a.mediaType, digest: a.digest, size: a.size, artifactType: a.artifactType }]);
  const front = await startFaultProxy(mirror.host);
  const e = engineFor();
  t.teardown(async () => {
    await e.close();
    await front.stop();
  });
  // what docker-registry 2.8 answers when a concurrent copy rewrites the shared empty config's link file
  const body = JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }, { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
  front.rules.push({ method: 'PUT', path: new RegExp(`/manifests/${a.digest}$`), fault: { kind: 'status', status: 400, body }, times: 1 });
  const r = await e.copyReferrers({ src: `${H}/${repo}`, dst: `${front.host}/${repo}`, digests: [subject.digest] });
  t.same(r.found.map((f) => f.digest), [a.digest]);
  t.same(front.log.filter((l) => l.startsWith('PUT ') && l.includes(`/manifests/${a.digest}`)).map((l) => l.endsWith('!status')), [true, false], 'refused once, then taken');
  t.equal((await inspectRaw(`${mirror.host}/${repo}@${a.digest}`))?.digest, a.digest);
});

t.test('concurrent copies of two referrers of one subject: both in the fallback index', async (t) => {
  const H = upstream.host;
  const repo = 'conc/app';
  const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: imgs.amd64.digest, size: imgs.amd64.size };
  const a = await pushArtifact(H, repo, { artifactType: 'application/vnd.example.a', content: 'aaa', subject });
  const b = await pushArtifact(H, repo, { artifactType: 'application/vnd.example.b', content: 'bbb', subject });
  await pushFallbackIndex(H, repo, subject.digest, [
    { mediaType: a.mediaType, digest: a.digest, size: a.size, artifactType: a.artifactType },
    { mediaType: b.mediaType, digest: b.digest, size: b.size, artifactType: b.artifactType },
  ]);
  const e1 = engineFor();
  const e2 = engineFor();
  t.teardown(() => Promise.all([e1.close(), e2.close()]));
  const dst = `${mirror.host}/${repo}`;
  const [r1, r2] = await Promise.all([
    e1.copyReferrers({ src: `${H}/${repo}`, dst, digests: [subject.digest], artifactTypes: [a.artifactType] }),
    e2.copyReferrers({ src: `${H}/${repo}`, dst, digests: [subject.digest], artifactTypes: [b.artifactType] }),
  ]);
  t.same([r1.found.map((f) => f.digest), r2.found.map((f) => f.digest)], [[a.digest], [b.digest]]);
  const idx = await getIndex(mirror.host, repo, tagOf(subject.digest));
  t.same(idx?.manifests?.map((d: any) => d.digest).sort(), [a.digest, b.digest].sort());

  // another process overwrites the index between our PUT and our re-read, with what it read before our write
  const other = imgs.arm64.digest;
  const descA = { mediaType: a.mediaType, digest: a.digest, size: a.size, artifactType: a.artifactType };
  const descB = { mediaType: b.mediaType, digest: b.digest, size: b.size, artifactType: b.artifactType };
  let raced = 0;
  const real = e1.transport;
  const racing = Object.create(real) as typeof real;
  racing.request = async (spec) => {
    const res = await real.request(spec);
    if (spec.method === 'PUT' && spec.path.endsWith(`/manifests/${tagOf(other)}`) && raced++ === 0) {
      await pushFallbackIndex(mirror.host, repo, other, [descB]);
    }
    return res;
  };
  const added = await updateFallbackIndex(racing, { host: mirror.host, repository: repo }, other, [descA], AbortSignal.timeout(10_000));
  t.equal(raced, 2, 'lost the race once, merged again');
  t.equal(added, 1);
  const idx2 = await getIndex(mirror.host, repo, tagOf(other));
  t.same(idx2?.manifests?.map((d: any) => d.digest).sort(), [a.digest, b.digest].sort(), 'no entry lost to the other writer');
});

t.test('referrers API upstream and OCI-Subject in the mirror (thin proxies over docker-registry)', async (t) => {
  const up = await startReferrersProxy(upstream.host);
  const mi = await startReferrersProxy(mirror.host);
  t.teardown(() => Promise.all([up.stop(), mi.stop()]));
  const repo = 'api/app';
  await pushTestImages(imgs, up.host, repo);
  const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: imgs.amd64.digest, size: imgs.amd64.size };
  const sbom = await pushArtifact(up.host, repo, { artifactType: SPDX, content: '{"spdxVersion":"SPDX-2.3","name":"api"}', subject });
  const sbomSig = await pushArtifact(up.host, repo, { artifactType: SIG_ART, content: 'api-sig', subject: { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.size } });
  const other = await pushArtifact(up.host, repo, { artifactType: 'application/vnd.example.other', content: 'other', subject });

  const engine = engineFor();
  t.teardown(() => engine.close());
  up.log.length = 0;
  const res = await engine.copyReferrers({ src: `${up.host}/${repo}`, dst: `${mi.host}/${repo}`, digests: [subject.digest], artifactTypes: [SPDX, SIG_ART] });
  t.comment(`referrers API: ${res.requests} requests, ${res.copied} copied`);
  t.same(
    res.found.map((f) => [f.digest, f.via, f.depth]).sort(),
    [
      [sbom.digest, 'api', 0],
      [sbomSig.digest, 'api', 1],
    ].sort(),
  );
  t.notOk(res.found.some((f) => f.digest === other.digest), 'filtered client side');
  t.ok(up.log.some((l) => l.startsWith(`GET /v2/${repo}/referrers/${subject.digest}`)), 'asked the API');
  t.notOk(up.log.some((l) => l.includes(`/manifests/${tagOf(subject.digest)}`)), 'no fallback tag read upstream');
  for (const d of [sbom.digest, sbomSig.digest]) {
    t.equal((await inspectRaw(`${mirror.host}/${repo}@${d}`))?.digest, d, `in the mirror ${d.slice(0, 19)}`);
  }
  t.same(await tagsOf(mirror.host, repo), [], 'the mirror answered OCI-Subject: no fallback tag written');
  const listed = await (await fetch(`http://${mi.host}/v2/${repo}/referrers/${subject.digest}`)).json();
  t.same((listed as any).manifests.map((d: any) => d.digest), [sbom.digest], "mirror's referrers API lists the SBOM");
});

t.test('later digests: one call, one tags/list, referrers of the index first and of the children handed over later', async (t) => {
  // a plain pass-through log over the upstream: the API answers 200 here, so the proxy counts every request
  const up = await startReferrersProxy(upstream.host);
  t.teardown(() => up.stop());
  const repo = 'later/app';
  await pushTestImages(imgs, up.host, repo);
  const H = up.host;
  const indexSig = await pushCosignSig(H, repo, imgs.index.digest);
  const amdSig = await pushCosignSig(H, repo, imgs.amd64.digest);
  const armSbom = await pushArtifact(H, repo, { artifactType: SPDX, content: '{"spdxVersion":"SPDX-2.3","name":"arm64"}', subject: { mediaType: OCI_MANIFEST, digest: imgs.arm64.digest, size: imgs.arm64.size } });

  const engine = engineFor();
  t.teardown(() => engine.close());
  up.log.length = 0;
  let handOver!: (d: string[]) => void;
  const later = new Promise<string[]>((r) => (handOver = r));
  const call = engine.copyReferrers({ src: `${H}/${repo}`, dst: `${mirror.host}/${repo}`, digests: [imgs.index.digest], later });
  // the index's referrers move before the children are known
  const until = Date.now() + 10_000;
  while (!(await inspectRaw(`${mirror.host}/${repo}@${indexSig.digest}`)) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  t.equal((await inspectRaw(`${mirror.host}/${repo}@${indexSig.digest}`))?.digest, indexSig.digest, "the index's signature is in the mirror before `later` resolved");
  handOver([imgs.amd64.digest, imgs.arm64.digest, imgs.armv7.digest, imgs.index.digest]);
  const res = await call;
  t.same(
    res.found.map((f) => [f.digest, f.subject, f.depth]).sort(),
    [
      [indexSig.digest, imgs.index.digest, 0],
      [amdSig.digest, imgs.amd64.digest, 0],
      [armSbom.digest, imgs.arm64.digest, 0],
    ].sort(),
    'referrers of the index and of the children',
  );
  t.equal(res.copied, 3);
  t.equal(up.log.filter((l) => l.startsWith(`GET /v2/${repo}/tags/list`)).length, 1, 'ONE tags/list for the index and its children');
  t.equal(up.log.filter((l) => l.startsWith(`GET /v2/${repo}/referrers/${imgs.index.digest}`)).length, 1, 'the index digest handed over again is not asked twice');
  for (const d of [amdSig.digest, armSbom.digest]) t.equal((await inspectRaw(`${mirror.host}/${repo}@${d}`))?.digest, d, `in the mirror ${d.slice(0, 19)}`);
});

t.test('later rejected (the copy failed) or the call aborted while waiting: the call rejects, nothing unhandled', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const engine = engineFor();
  t.teardown(() => engine.close());
  const src = `${upstream.host}/signed/app`;
  const dst = `${mirror.host}/later-fail/app`;
  // rejected before the first digest was even looked at
  const boom = new Error('copy failed: blob upload refused');
  await t.rejects(engine.copyReferrers({ src, dst, digests: [imgs.amd64.digest], later: Promise.reject(boom) }), /blob upload refused/);
  // aborted while waiting for a `later` that never comes
  const ac = new AbortController();
  const call = engine.copyReferrers({ src, dst, digests: [imgs.amd64.digest], later: new Promise<string[]>(() => {}), signal: ac.signal });
  setTimeout(() => ac.abort(new Error('job cancelled')), 300);
  const t0 = Date.now();
  await t.rejects(call);
  t.ok(Date.now() - t0 < 5_000, 'stopped at the abort, not at a timeout');
  await new Promise((r) => setTimeout(r, 50));
  t.same(unhandled, [], 'no unhandled rejection');
});
