/**
 * `copy.platformMode` (SPEC "Supply chain") end to end at the engine level: a
 * 3-platform index upstream (linux/amd64, linux/arm64, linux/s390x) copied
 * with `copy.platforms: [linux/amd64, linux/arm64]`, in every mode, by tag
 * and by digest, into two mirrors:
 *  - `refuses`: a plain docker-registry 2.8 (400 MANIFEST_BLOB_UNKNOWN for a
 *    sparse index), behind a logging pass-through to count what it is sent;
 *  - `accepts`: a docker-registry behind sparse-proxy.ts (takes sparse indexes,
 *    as distribution 3 and some hosted registries do).
 * The oracle is `skopeo inspect --raw` on the mirror: the digest it serves
 * (sha256 of the raw bytes), and which children it holds.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformMode } from '../../src/config/types.js';
import { RegistryEngine, type CopyResult } from '../../src/registry/index.js';
import { buildImage, buildIndex, inspectRaw, pushImage, type BuiltImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { testConfig } from './support/fixtures.js';
import { startSparseProxy, type SparseProxy } from './support/sparse-proxy.js';

const WANTED = ['linux/amd64', 'linux/arm64'];
const MODES: PlatformMode[] = ['full', 'sparse', 'strip', 'auto'];
type MirrorKind = 'refuses' | 'accepts';
type RefKind = 'tag' | 'digest';

interface Upstream3 {
  amd64: BuiltImage;
  arm64: BuiltImage;
  s390x: BuiltImage;
  index: { digest: string; size: number };
  repo: string;
  /** `skopeo inspect --raw` of the upstream index. */
  raw: { digest: string; manifest: any };
}

const layout = mkdtempSync(join(tmpdir(), 'ferry-pmode-'));
const [upstream, refusingReg, acceptingReg] = await Promise.all([startRegistry(), startRegistry(), startRegistry()]);
const [refusing, accepting] = await Promise.all([startSparseProxy(refusingReg.host, { acceptSparse: false }), startSparseProxy(acceptingReg.host)]);
t.teardown(async () => {
  await Promise.all([refusing.stop(), accepting.stop()]);
  await Promise.all([upstream.stop(), refusingReg.stop(), acceptingReg.stop()]);
  rmSync(layout, { recursive: true, force: true });
});

/** A 3-platform index pushed upstream as `repo:multi` (children by digest only). */
async function threePlatforms(name: string): Promise<Upstream3> {
  const dir = join(layout, name);
  const amd64 = buildImage(dir, { tag: 'amd64', layerSizes: [4096], architecture: 'amd64' });
  const arm64 = buildImage(dir, { tag: 'arm64', layerSizes: [4096], architecture: 'arm64' });
  const s390x = buildImage(dir, { tag: 's390x', layerSizes: [4096], architecture: 's390x' });
  const index = buildIndex(dir, 'multi', [
    { image: amd64, os: 'linux', architecture: 'amd64' },
    { image: arm64, os: 'linux', architecture: 'arm64' },
    { image: s390x, os: 'linux', architecture: 's390x' },
  ]);
  const repo = `src/${name}`;
  await pushImage(dir, 'multi', `${upstream.host}/${repo}:multi`);
  const raw = (await inspectRaw(`${upstream.host}/${repo}:multi`))!;
  return { amd64, arm64, s390x, index, repo, raw };
}

const IMG = await threePlatforms('app');
const OTHER = await threePlatforms('other');
t.equal(IMG.raw.digest, IMG.index.digest, 'upstream serves the 3-platform index');

const mirrorOf = (k: MirrorKind): { host: string; proxy: SparseProxy } => (k === 'accepts' ? { host: accepting.host, proxy: accepting } : { host: refusing.host, proxy: refusing });

/** What the mode must come to, per mirror and reference kind. */
function expected(mode: PlatformMode, mirror: MirrorKind, ref: RefKind): 'full' | 'sparse' | 'strip' {
  if (mode === 'full' || mode === 'strip') return mode;
  if (mirror === 'accepts') return 'sparse';
  // refused: sparse falls back to full (its promise is the digest); auto to strip for a tag, full for a digest
  return mode === 'sparse' || ref === 'digest' ? 'full' : 'strip';
}

const engineFor = (mode: PlatformMode) => new RegistryEngine({ config: testConfig({ copy: { platforms: WANTED, platformMode: mode } }) });
const srcOf = (img: Upstream3, ref: RefKind) => (ref === 'tag' ? `${upstream.host}/${img.repo}:multi` : `${upstream.host}/${img.repo}@${img.index.digest}`);
const dstOf = (host: string, repo: string, img: Upstream3, ref: RefKind) => (ref === 'tag' ? `${host}/${repo}:multi` : `${host}/${repo}@${img.index.digest}`);
/** Index PUTs the mirror answered 400 (a refused sparse index), in log lines `from` on. */
const refusedPuts = (p: SparseProxy, repo: string, from: number) => p.log.slice(from).filter((l) => l.startsWith(`PUT /v2/${repo}/manifests/`) && l.endsWith(' 400'));
const writes = (p: SparseProxy, repo: string, from: number) => p.log.slice(from).filter((l) => /^(PUT|POST|PATCH|DELETE) /.test(l) && l.includes(`/v2/${repo}/`));

async function assertMirror(t: Test, host: string, repo: string, img: Upstream3, ref: RefKind, applied: 'full' | 'sparse' | 'strip', res: CopyResult): Promise<void> {
  const keepsDigest = applied !== 'strip';
  t.equal(res.platformMode, applied, `CopyResult.platformMode ${applied}`);
  t.equal(res.sourceDigest, img.index.digest, 'sourceDigest = the upstream index');
  t.equal(res.upToDate, false);
  t.equal(res.filtered, !keepsDigest, `filtered ${!keepsDigest}`);
  if (keepsDigest) t.equal(res.digest, img.index.digest, 'digest kept');
  else t.not(res.digest, img.index.digest, 'a new digest');
  // the reference the copy was asked for resolves to CopyResult.digest
  const served = await inspectRaw(ref === 'tag' ? `${host}/${repo}:multi` : `${host}/${repo}@${res.digest}`);
  t.equal(served?.digest, res.digest, 'the mirror serves CopyResult.digest');
  if (keepsDigest) {
    t.equal(served?.digest, img.raw.digest, 'index bytes identical to upstream');
  } else {
    const up = img.raw.manifest;
    t.same(served?.manifest.manifests, up.manifests.slice(0, 2), 'filtered index: the amd64 and arm64 descriptors, unchanged');
    t.same({ ...served?.manifest, manifests: [] }, { ...up, manifests: [] }, 'everything else as upstream');
    t.equal(await inspectRaw(`${host}/${repo}@${img.index.digest}`), undefined, 'the upstream index digest is not in the mirror');
  }
  for (const c of [img.amd64, img.arm64]) t.equal((await inspectRaw(`${host}/${repo}@${c.digest}`))?.digest, c.digest, `wanted child ${c.digest.slice(7, 19)} present`);
  const s390x = await inspectRaw(`${host}/${repo}@${img.s390x.digest}`);
  if (applied === 'full') t.equal(s390x?.digest, img.s390x.digest, 's390x present (full)');
  else t.equal(s390x, undefined, `s390x absent (${applied})`);
}

let n = 0;
for (const mode of MODES) {
  for (const ref of ['tag', 'digest'] as RefKind[]) {
    for (const kind of ['refuses', 'accepts'] as MirrorKind[]) {
      const applied = expected(mode, kind, ref);
      t.test(`${mode}, ${ref} reference, mirror ${kind} sparse indexes -> ${applied}`, async (t) => {
        const { host, proxy } = mirrorOf(kind);
        const repo = `m${n++}/${mode}-${ref}`;
        const engine = engineFor(mode);
        t.teardown(() => engine.close());
        const from = proxy.log.length;
        const res = await engine.copy({ src: srcOf(IMG, ref), dst: dstOf(host, repo, IMG, ref) });
        await assertMirror(t, host, repo, IMG, ref, applied, res);

        // a sparse index tried first: refused once by docker-registry (then remembered), accepted by the proxy
        const triesSparse = mode === 'sparse' || mode === 'auto';
        t.equal(refusedPuts(proxy, repo, from).length, triesSparse && kind === 'refuses' ? 1 : 0, 'refused sparse PUTs');
        if (kind === 'accepts') {
          t.equal(accepting.stored().includes(`${repo}@${res.digest}`), true, 'the proxy holds the index');
        }

        // re-copy: up to date, nothing written, same engine and a fresh one (a new process knows nothing)
        const mark = proxy.log.length;
        const again = await engine.copy({ src: srcOf(IMG, ref), dst: dstOf(host, repo, IMG, ref) });
        t.match(again, { upToDate: true, digest: res.digest, sourceDigest: IMG.index.digest, bytesCopied: 0 }, 're-copy up to date');
        const fresh = engineFor(mode);
        t.teardown(() => fresh.close());
        const again2 = await fresh.copy({ src: srcOf(IMG, ref), dst: dstOf(host, repo, IMG, ref) });
        t.match(again2, { upToDate: true, digest: res.digest, sourceDigest: IMG.index.digest, bytesCopied: 0 }, 're-copy up to date (fresh engine)');
        // a fresh auto engine finding the strip index of a tag asks once with the upstream bytes (refused: kept)
        const probes = mode === 'auto' && ref === 'tag' && kind === 'refuses' ? 1 : 0;
        t.equal(refusedPuts(proxy, repo, mark).length, probes, probes ? 'the fresh engine probed with one refused PUT of the upstream index' : 'no probe');
        t.equal(writes(proxy, repo, mark).length, probes, 'the re-copies wrote nothing else');

        // another image, same engine: the mirror's answer is remembered (no second refused PUT)
        const repo2 = `${repo}-other`;
        const from2 = proxy.log.length;
        const res2 = await engine.copy({ src: srcOf(OTHER, ref), dst: dstOf(host, repo2, OTHER, ref) });
        await assertMirror(t, host, repo2, OTHER, ref, applied, res2);
        t.same(refusedPuts(proxy, repo2, from2), [], 'no refused sparse PUT the second time');
        if (triesSparse && kind === 'refuses') {
          const indexPuts = proxy.log.slice(from2).filter((l) => l.startsWith(`PUT /v2/${repo2}/manifests/`) && !l.includes(`/manifests/${OTHER.amd64.digest}`) && !l.includes(`/manifests/${OTHER.arm64.digest}`) && !l.includes(`/manifests/${OTHER.s390x.digest}`));
          t.equal(indexPuts.length, 1, `one index PUT, straight in ${applied}`);
        }
      });
    }
  }
}

t.test('the sparse-accepting mirror learnt once per host: a refusing host does not affect it, in one engine', async (t) => {
  const engine = engineFor('auto');
  t.teardown(() => engine.close());
  const a = await engine.copy({ src: srcOf(IMG, 'tag'), dst: `${refusing.host}/both/app:multi` });
  const b = await engine.copy({ src: srcOf(IMG, 'tag'), dst: `${accepting.host}/both/app:multi` });
  t.equal(a.platformMode, 'strip', 'refusing host: strip');
  t.equal(b.platformMode, 'sparse', 'accepting host: still sparse');
  t.equal((await inspectRaw(`${accepting.host}/both/app:multi`))?.digest, IMG.index.digest);
  t.equal((await inspectRaw(`${refusingReg.host}/both/app:multi`))?.digest, a.digest, 'docker-registry itself serves the strip index');
});

t.test('a tag stripped before (an earlier strip setting) is given back its upstream digest by auto where the mirror accepts sparse', async (t) => {
  const dst = `${accepting.host}/upgrade/app:multi`;
  const strip = engineFor('strip');
  t.teardown(() => strip.close());
  const before = await strip.copy({ src: srcOf(IMG, 'tag'), dst });
  t.equal(before.platformMode, 'strip');
  t.not((await inspectRaw(dst))?.digest, IMG.index.digest, 'the mirror serves the strip index');
  const auto = engineFor('auto');
  t.teardown(() => auto.close());
  const mark = accepting.log.length;
  const after = await auto.copy({ src: srcOf(IMG, 'tag'), dst });
  t.match(after, { upToDate: true, platformMode: 'sparse', digest: IMG.index.digest, sourceDigest: IMG.index.digest, bytesCopied: 0 });
  t.equal((await inspectRaw(dst))?.digest, IMG.index.digest, 'the tag serves the upstream digest again');
  t.same(
    writes(accepting, 'upgrade/app', mark).map((l) => l.replace(/ \d+$/, '')),
    ['PUT /v2/upgrade/app/manifests/multi'],
    'one PUT of the upstream index bytes, no blob moved',
  );
  const again = await auto.copy({ src: srcOf(IMG, 'tag'), dst });
  t.match(again, { upToDate: true, digest: IMG.index.digest }, 'then up to date at step 1');
});

t.test('a sparse copy is not taken as up to date when the settings want more than it copied', async (t) => {
  const dst = `${accepting.host}/widen/app:multi`;
  const narrow = new RegistryEngine({ config: testConfig({ copy: { platforms: ['linux/amd64'], platformMode: 'sparse' } }) });
  t.teardown(() => narrow.close());
  const first = await narrow.copy({ src: srcOf(IMG, 'tag'), dst });
  t.equal(first.platformMode, 'sparse');
  t.equal(await inspectRaw(`${accepting.host}/widen/app@${IMG.arm64.digest}`), undefined, 'arm64 left out');
  // the same engine again: up to date (checked once, then remembered)
  t.match(await narrow.copy({ src: srcOf(IMG, 'tag'), dst }), { upToDate: true });

  const wide = engineFor('sparse'); // amd64 + arm64
  t.teardown(() => wide.close());
  const second = await wide.copy({ src: srcOf(IMG, 'tag'), dst });
  t.match(second, { upToDate: false, platformMode: 'sparse', digest: IMG.index.digest });
  t.equal((await inspectRaw(`${accepting.host}/widen/app@${IMG.arm64.digest}`))?.digest, IMG.arm64.digest, 'widened platforms: arm64 filled in');

  const full = engineFor('full');
  t.teardown(() => full.close());
  const third = await full.copy({ src: srcOf(IMG, 'tag'), dst });
  t.match(third, { upToDate: false, digest: IMG.index.digest });
  t.equal((await inspectRaw(`${accepting.host}/widen/app@${IMG.s390x.digest}`))?.digest, IMG.s390x.digest, 'switched to full: s390x filled in');
  t.match(await full.copy({ src: srcOf(IMG, 'tag'), dst }), { upToDate: true }, 'then up to date');
});

t.test('the full fallback after a refused sparse index copies the digest that was admitted, even if the tag moved meanwhile', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const moving = `${upstream.host}/src/moving:multi`;
  await run('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${upstream.host}/${IMG.repo}:multi`, `docker://${moving}`]);
  const engine = engineFor('sparse');
  t.teardown(() => engine.close());
  const admitted: string[] = [];
  const res = await engine.copy({
    src: moving,
    dst: `${refusingReg.host}/moving/app:multi`,
    admit: async (digest) => {
      admitted.push(digest);
      // the tag moves upstream after the copy admitted its digest
      await run('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${upstream.host}/${OTHER.repo}:multi`, `docker://${moving}`]);
    },
  });
  t.same(admitted, [IMG.index.digest], 'admitted once');
  t.match(res, { platformMode: 'full', sourceDigest: IMG.index.digest, digest: IMG.index.digest });
  t.equal((await inspectRaw(`${refusingReg.host}/moving/app:multi`))?.digest, IMG.index.digest, 'the mirror holds what was admitted');
});
