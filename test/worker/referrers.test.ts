/**
 * `copy.referrers`: a worker mirrors an image with its cosign signature, an
 * SBOM referrer (subject) and the SBOM's own signature, byte for byte; again
 * on an up-to-date copy (new signatures reach the mirror); never when off;
 * and a referrer failure leaves the image mirrored with a warning. The step
 * overlaps the copy (src/worker/referrer-step.ts): started at admission, the
 * children handed over after the copy, ONE call (one tags/list) per image;
 * a copy that fails stops it, and the copy's error is the one on record.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import type { CopyReferrersOptions } from '../../src/registry/index.js';
import type { CopyEngine } from '../../src/worker/engine.js';
import { buildTestImages, pushTestImages } from '../registry/support/fixtures.js';
import { inspectRaw } from '../support/images.js';
import { cosignSignature, fetchManifest, keyPair, pushArtifact, sbomArtifact } from '../support/supply-chain.js';
import { harness, startEnv, type Env, type Harness } from './support/env.js';

const env = await startEnv();
t.teardown(() => env.stop());
const key = keyPair('ecdsa-p256');
const sigTag = (d: string) => `${d.replace(':', '-')}.sig`;
const repoOf = (ref: string) => ref.slice(ref.indexOf('/') + 1).replace(/:[^/]*$/, '');
const hostRepoOf = (ref: string) => ref.replace(/:[^/:]*$/, '');

/** Pushes an image upstream with a `.sig`, an SBOM referrer and a `.sig` of the SBOM: the three referrer digests. */
async function signedImage(e: Env, repo: string, tag: string) {
  const { ref, image } = await e.push(repo, tag, [4096]);
  const top = (await fetchManifest(e.upstream.host, repo, image.digest))!;
  const sig = cosignSignature(top.digest, `${e.upstream.host}/${repo}`, key.privateKey);
  await pushArtifact(e.upstream.host, repo, sig, sigTag(top.digest));
  const sbom = sbomArtifact({ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length });
  await pushArtifact(e.upstream.host, repo, sbom);
  // registry:2 has no referrers API: the fallback tag `sha256-<hex>` lists the SBOM
  const fallback = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: sbom.mediaType, digest: sbom.manifestDigest, size: sbom.manifest.length, artifactType: 'application/spdx+json' }],
    }),
  );
  const res = await fetch(`http://${e.upstream.host}/v2/${repo}/manifests/${top.digest.replace(':', '-')}`, {
    method: 'PUT',
    body: new Uint8Array(fallback),
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`fallback tag PUT ${res.status}`);
  const sbomSig = cosignSignature(sbom.manifestDigest, `${e.upstream.host}/${repo}`, key.privateKey);
  await pushArtifact(e.upstream.host, repo, sbomSig, sigTag(sbom.manifestDigest));
  return { ref, digest: top.digest, sig: sig.manifestDigest, sbom: sbom.manifestDigest, sbomSig: sbomSig.manifestDigest };
}

function mirrored(h: Harness, ref: string) {
  return h.events.wait((e) => e.type === 'state' && e.ref === ref && e.record.state === 'mirrored', `${ref} mirrored`, 30_000);
}

async function waitCompleted(h: Harness, n: number) {
  const until = Date.now() + 30_000;
  while (((await h.queue.getJobCounts('completed')).completed ?? 0) < n) {
    if (Date.now() > until) throw new Error(`fewer than ${n} completed jobs`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('signature, SBOM and the SBOM signature travel with the copy, byte for byte; a later signature on the next up-to-date copy', async (t) => {
  const h = await harness(env, 'ref-on');
  t.teardown(() => h.close());
  const img = await signedImage(env, 'test/signed', '1');
  const dst = env.mirrorRefOf(img.ref);
  const dstRepo = hostRepoOf(dst);
  const srcRepo = hostRepoOf(img.ref);
  h.pool();
  await h.enqueue(img.ref);
  await mirrored(h, img.ref);
  await waitCompleted(h, 1);
  const rec = (await h.store.get(img.ref))!;
  t.equal(rec.state, 'mirrored');
  t.equal(rec.referrers, 3, 'three referrers on record');
  for (const d of [img.digest, img.sig, img.sbom, img.sbomSig]) {
    t.equal((await inspectRaw(`${dstRepo}@${d}`))?.digest, d, `mirror holds ${d} byte-identical`);
  }
  t.equal((await inspectRaw(`${dstRepo}:${sigTag(img.digest)}`))?.digest, (await inspectRaw(`${srcRepo}:${sigTag(img.digest)}`))?.digest, '.sig tag identical');
  t.equal((await inspectRaw(`${dstRepo}:${sigTag(img.sbom)}`))?.digest, img.sbomSig, 'SBOM .sig tag identical');

  // a second signer: an attestation-like `.att` appears upstream later; the next (up-to-date) copy brings it
  const repo = repoOf(img.ref);
  const att = cosignSignature(img.digest, `${env.upstream.host}/${repo}`, keyPair('ed25519').privateKey);
  await pushArtifact(env.upstream.host, repo, att, `${img.digest.replace(':', '-')}.att`);
  await h.enqueue(img.ref, { force: true });
  await waitCompleted(h, 2);
  t.equal((await inspectRaw(`${dstRepo}@${att.manifestDigest}`))?.digest, att.manifestDigest, 'the later referrer reached the mirror');
  const again = (await h.store.get(img.ref))!;
  t.equal(again.state, 'mirrored');
  t.equal(again.referrers, 4, 'the record counts it');
});

t.test('copy.referrers false: nothing but the image is copied', async (t) => {
  const h = await harness(env, 'ref-off');
  t.teardown(() => h.close());
  h.config.copy.referrers = false;
  const img = await signedImage(env, 'test/signed-off', '1');
  const dstRepo = hostRepoOf(env.mirrorRefOf(img.ref));
  h.pool();
  await h.enqueue(img.ref);
  await mirrored(h, img.ref);
  await waitCompleted(h, 1);
  t.equal((await inspectRaw(`${dstRepo}@${img.digest}`))?.digest, img.digest, 'image mirrored');
  for (const d of [img.sig, img.sbom, img.sbomSig]) t.equal(await inspectRaw(`${dstRepo}@${d}`), undefined, `${d} not copied`);
  const tags = (await (await fetch(`http://${env.mirror.host}/v2/${repoOf(dstRepo)}/tags/list`)).json()) as { tags?: string[] };
  t.same(tags.tags, ['1'], 'only the image tag');
  t.equal((await h.store.get(img.ref))!.referrers, 0);
});

t.test('a referrer that cannot be copied leaves the image mirrored, with a warning', async (t) => {
  const h = await harness(env, 'ref-fail');
  t.teardown(() => h.close());
  const lines: any[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    }),
  );
  const failing: CopyEngine = {
    copy: (o) => h.engine.copy(o),
    copyReferrers: async () => {
      throw new Error('mirror refused the referrer');
    },
  };
  const img = await signedImage(env, 'test/signed-fail', '1');
  h.pool({ engine: failing, logger });
  await h.enqueue(img.ref);
  await mirrored(h, img.ref);
  await waitCompleted(h, 1);
  const rec = (await h.store.get(img.ref))!;
  t.equal(rec.state, 'mirrored');
  t.equal(rec.lastError, null);
  t.equal(rec.referrers, 0, 'none on record');
  t.ok(
    lines.some((l) => l.level === 40 && /referrers failed/.test(l.msg) && /refused/.test(JSON.stringify(l.err))),
    'a warning names the failure',
  );
});

t.test('an index: referrers of the index and of its children, one copyReferrers call and one tags/list, started before the copy returned', async (t) => {
  const h = await harness(env, 'ref-index');
  t.teardown(() => h.close());
  const imgs = buildTestImages([4096, 8192]);
  t.teardown(() => imgs.cleanup());
  const repo = 'test/signed-index';
  await pushTestImages(imgs, env.upstream.host, repo);
  const ref = `${env.upstream.host}/${repo}:multi`;
  const dstRepo = hostRepoOf(env.mirrorRefOf(ref));
  const indexSig = cosignSignature(imgs.index.digest, `${env.upstream.host}/${repo}`, key.privateKey);
  await pushArtifact(env.upstream.host, repo, indexSig, sigTag(imgs.index.digest));
  const childSig = cosignSignature(imgs.arm64.digest, `${env.upstream.host}/${repo}`, key.privateKey);
  await pushArtifact(env.upstream.host, repo, childSig, sigTag(imgs.arm64.digest));

  // what the worker asks of the engine, and the tags/list requests it sends
  const calls: CopyReferrersOptions[] = [];
  const order: string[] = [];
  let tagLists = 0;
  const transport = h.engine.transport;
  const request = transport.request.bind(transport);
  transport.request = (spec) => {
    if (spec.method === 'GET' && spec.path.startsWith(`/v2/${repo}/tags/list`)) tagLists++;
    return request(spec);
  };
  const engine: CopyEngine = {
    copy: async (o) => {
      const r = await h.engine.copy(o);
      order.push('copy returned');
      return r;
    },
    copyReferrers: (o) => {
      calls.push(o);
      order.push('copyReferrers');
      return h.engine.copyReferrers(o);
    },
  };
  h.pool({ engine });
  await h.enqueue(ref);
  await mirrored(h, ref);
  await waitCompleted(h, 1);
  const rec = (await h.store.get(ref))!;
  t.equal(rec.state, 'mirrored');
  t.equal(rec.referrers, 2, "the index's and the child's signatures on record");
  for (const d of [imgs.index.digest, indexSig.manifestDigest, childSig.manifestDigest]) t.equal((await inspectRaw(`${dstRepo}@${d}`))?.digest, d, `mirror holds ${d.slice(0, 19)}`);
  t.equal(calls.length, 1, 'one copyReferrers call for the image');
  t.same(calls[0]?.digests, [imgs.index.digest], 'started with the source digest');
  t.same((await calls[0]?.later)?.sort(), [imgs.amd64.digest, imgs.arm64.digest, imgs.armv7.digest].sort(), 'the children handed over later');
  t.same(order, ['copyReferrers', 'copy returned'], 'started at admission, before the copy returned');
  t.equal(tagLists, 1, 'one tags/list upstream for the index and its children');
});

t.test('a copy that fails after admission: the referrer step is aborted, nothing rejects unhandled, the copy error is on record', async (t) => {
  const h = await harness(env, 'ref-copyfail', { maxAttempts: 1 });
  t.teardown(() => h.close());
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const img = await signedImage(env, 'test/signed-copyfail', '1');
  let stepSignal: AbortSignal | undefined;
  let stepSettled = false;
  const engine: CopyEngine = {
    copy: async (o) => {
      // the source resolves and is admitted, then the blob transfer dies
      await o.admit?.(img.digest);
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('the mirror went away mid-copy');
    },
    copyReferrers: async (o) => {
      stepSignal = o.signal;
      try {
        return await h.engine.copyReferrers(o);
      } catch {
        throw new Error('referrer failure that must not mask the copy error');
      } finally {
        stepSettled = true;
      }
    },
  };
  h.pool({ engine });
  await h.enqueue(img.ref);
  await h.events.wait((e) => e.type === 'state' && e.ref === img.ref && e.record.state === 'error', `${img.ref} error`, 30_000);
  const rec = (await h.store.get(img.ref))!;
  t.equal(rec.state, 'error');
  t.match(rec.lastError, /mirror went away/, "the copy's error on record");
  t.notMatch(rec.lastError, /must not mask/);
  t.ok(stepSignal?.aborted, 'the referrer step was aborted');
  t.ok(stepSettled, 'and had stopped before the record was written');
  await new Promise((r) => setTimeout(r, 100));
  t.same(unhandled, [], 'no unhandled rejection');
});
