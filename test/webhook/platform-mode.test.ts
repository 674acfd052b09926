/**
 * `copy.platformMode` at admission (SPEC "Supply chain": "A digest-pinned pod
 * is always rewritten to a reference the mirror serves"). A real webhook
 * (HTTPS) and worker role in one process, a real redis-server, docker-registry
 * as the upstream holding a 3-platform index (linux/amd64, linux/arm64,
 * linux/s390x), `copy.platforms: [linux/amd64, linux/arm64]`, and in every
 * mode two mirrors: docker-registry 2.8 (refuses sparse indexes) and the same
 * behind sparse-proxy.ts (accepts them).
 *
 * A pod naming the index by tag and by digest is admitted (the copies are
 * queued), the worker mirrors both, a second pod is admitted, with
 * `rewrite.pinDigest` off and (a second webhook on the same Redis) on, and
 * `skopeo inspect --raw` must resolve exactly the image strings the webhook
 * wrote, to the digest the worker recorded.
 *
 * `name:tag@digest` (the pinDigest rewrite of a tag): skopeo refuses a
 * reference with both ("Docker references with both a tag and digest are
 * currently not supported"); containerd and CRI-O pull it by the digest and
 * ignore the tag, so that is what is inspected: `name@digest`.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformMode } from '../../src/config/types.js';
import { resolveConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import type { ImageRecord } from '../../src/queue/index.js';
import { createContext, type RootContext } from '../../src/runtime/index.js';
import { startWebhook } from '../../src/webhook/index.js';
import { startWorker } from '../../src/worker/index.js';
import { buildImage, buildIndex, inspectRaw, pushImage } from '../support/images.js';
import { postJson } from '../support/https.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { startSparseProxy } from '../registry/support/sparse-proxy.js';

const MODES: PlatformMode[] = ['full', 'sparse', 'strip', 'auto'];
const rnd = () => Math.random().toString(36).slice(2, 8);

const dir = mkdtempSync(join(tmpdir(), 'ferry-wh-pmode-'));
const [redis, upstream, refusing, acceptingReg] = await Promise.all([startRedis(), startRegistry(), startRegistry(), startRegistry()]);
const accepting = await startSparseProxy(acceptingReg.host);
t.teardown(async () => {
  await accepting.stop();
  await Promise.all([redis.stop(), upstream.stop(), refusing.stop(), acceptingReg.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const amd64 = buildImage(dir, { tag: 'amd64', layerSizes: [2048], architecture: 'amd64' });
const arm64 = buildImage(dir, { tag: 'arm64', layerSizes: [2048], architecture: 'arm64' });
const s390x = buildImage(dir, { tag: 's390x', layerSizes: [2048], architecture: 's390x' });
const index = buildIndex(dir, 'multi', [
  { image: amd64, os: 'linux', architecture: 'amd64' },
  { image: arm64, os: 'linux', architecture: 'arm64' },
  { image: s390x, os: 'linux', architecture: 's390x' },
]);
await pushImage(dir, 'multi', `${upstream.host}/src/app:multi`);
const TAG_REF = `${upstream.host}/src/app:multi`;
const DIGEST_REF = `${upstream.host}/src/app@${index.digest}`;

/** One ferry process (webhook, and the worker when `worker`) on queue prefix `prefix`. */
async function ferry(t: Test, o: { prefix: string; mirror: string; mirrorPrefix: string; mode: PlatformMode; pinDigest: boolean; worker: boolean }) {
  const loaded = resolveConfig({
    mirror: { registry: o.mirror, insecure: true, prefix: o.mirrorPrefix },
    queue: { redisUrl: redis.url, prefix: o.prefix, backoff: { initialMs: 100, maxMs: 1000 } },
    webhook: { port: 0, host: '127.0.0.1' },
    rewrite: { mode: 'mirrored', pinDigest: o.pinDigest },
    copy: { platforms: ['linux/amd64', 'linux/arm64'], platformMode: o.mode },
    kubernetes: { namespaceInformer: 'off', podInformer: 'off', events: false },
  });
  const ctx = createContext(loaded, createLogger('silent'), {});
  const webhook = await startWebhook(ctx);
  const worker = o.worker ? await startWorker(ctx) : undefined;
  t.teardown(async () => {
    await worker?.close();
    await webhook.close();
    await ctx.close();
  });
  const ca = readFileSync(webhook.caFile!);
  let uid = 0;
  /** One AdmissionReview (CREATE) of a pod with containers `tag` and `digest`; the images as the API server stores them. */
  const admit = async (): Promise<{ tag: string; digest: string }> => {
    const images = { tag: TAG_REF, digest: DIGEST_REF };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${uid}`, namespace: 'default', annotations: {} },
      spec: { containers: Object.entries(images).map(([name, image]) => ({ name, image })) },
    };
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: `u${rnd()}${uid++}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'default', operation: 'CREATE', object: pod },
    };
    const res = await postJson(`${webhook.url}/mutate`, review, ca);
    const r = res.body.response as { allowed: boolean; patch?: string; status?: { message: string } };
    if (!r.allowed) throw new Error(`denied: ${r.status?.message}`);
    const ops = r.patch ? (JSON.parse(Buffer.from(r.patch, 'base64').toString()) as { path: string; value: unknown }[]) : [];
    const at = (i: number, original: string) => (ops.find((op) => op.path === `/spec/containers/${i}/image`)?.value as string | undefined) ?? original;
    return { tag: at(0, images.tag), digest: at(1, images.digest) };
  };
  return { ctx, admit };
}

/** Resolves when `ref`'s record is `mirrored` in `ctx`'s in-memory view (fed from Redis); rejects on `error`. */
function mirroredIn(ctx: RootContext, ref: string, timeoutMs = 30_000): Promise<ImageRecord> {
  return new Promise((resolve, reject) => {
    const feed = ctx.records();
    const timer = setTimeout(() => done(new Error(`${ref} not mirrored within ${timeoutMs} ms`)), timeoutMs);
    const onEvent = (ev: { type: string; ref: string; record?: ImageRecord }) => {
      if (ev.type !== 'state' || ev.ref !== ref || !ev.record) return;
      if (ev.record.state === 'mirrored') done(undefined, ev.record);
      else if (ev.record.state === 'error') done(new Error(`${ref}: ${ev.record.lastError}`));
    };
    const done = (e: Error | undefined, r?: ImageRecord) => {
      clearTimeout(timer);
      feed.off('event', onEvent as never);
      if (e) reject(e);
      else resolve(r!);
    };
    feed.on('event', onEvent as never);
  });
}

/** What a kubelet pulls for `image`: `name:tag@digest` by its digest (the tag ignored), anything else as it is. */
const asPulled = (image: string) => image.replace(/:[^/:@]+(@sha256:[0-9a-f]{64})$/, '$1');

for (const mode of MODES) {
  for (const kind of ['refuses', 'accepts'] as const) {
    t.test(`${mode}, mirror ${kind} sparse indexes: every rewritten image resolves`, async (t) => {
      const mirror = kind === 'accepts' ? accepting.host : refusing.host;
      const common = { prefix: `pm${rnd()}`, mirror, mirrorPrefix: `${mode}-${kind}`, mode };
      const off = await ferry(t, { ...common, pinDigest: false, worker: true });
      const on = await ferry(t, { ...common, pinDigest: true, worker: false });
      const waits = [TAG_REF, DIGEST_REF].flatMap((ref) => [mirroredIn(off.ctx, ref), mirroredIn(on.ctx, ref)]);
      const first = await off.admit();
      t.same(first, { tag: TAG_REF, digest: DIGEST_REF }, 'not mirrored yet: unchanged (copies queued)');
      const [tagRec, , digestRec] = await Promise.all(waits);

      // the records: sourceDigest is the upstream index; digest what the mirror serves for that reference
      const tagStrips = mode === 'strip' || (mode === 'auto' && kind === 'refuses');
      const digestStrips = mode === 'strip';
      t.equal(tagRec!.sourceDigest, index.digest, 'tag record: sourceDigest');
      t.equal(digestRec!.sourceDigest, index.digest, 'digest record: sourceDigest');
      if (mode === 'auto' && kind === 'refuses' && tagRec!.digest === index.digest) {
        // The two copies race: when the digest reference's full copy (every child) landed first, the refusing
        // mirror holds the whole index and accepts the tag's sparse push byte-identical: kept, rightly.
        t.ok(Date.parse(digestRec!.mirroredAt!) <= Date.parse(tagRec!.mirroredAt!), 'tag record: digest kept only because the full copy of the digest reference landed first');
      } else t.equal(tagRec!.digest === index.digest, !tagStrips, `tag record: digest ${tagStrips ? 'of the stripped index' : 'kept'}`);
      t.equal(digestRec!.digest === index.digest, !digestStrips, `digest record: digest ${digestStrips ? 'of the stripped index' : 'kept'}`);

      for (const [pin, f] of [
        ['off', off],
        ['on', on],
      ] as const) {
        const images = await f.admit();
        t.ok(images.tag.startsWith(`${mirror}/`), `pinDigest ${pin}: tag rewritten to the mirror (${images.tag})`);
        t.ok(images.digest.startsWith(`${mirror}/`), `pinDigest ${pin}: digest rewritten to the mirror (${images.digest})`);
        if (pin === 'on') t.ok(images.tag.endsWith(`@${tagRec!.digest}`), 'pinDigest on: the tag pinned to record.digest');
        for (const [which, image, rec] of [
          ['tag', images.tag, tagRec!],
          ['digest', images.digest, digestRec!],
        ] as const) {
          const got = await inspectRaw(asPulled(image));
          t.ok(got, `pinDigest ${pin}, ${which} ref: ${image} resolves`);
          t.equal(got?.digest, rec.digest, `pinDigest ${pin}, ${which} ref: the mirror serves the recorded digest`);
          t.same(
            got?.manifest.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture).filter((a: string) => a !== 's390x'),
            ['amd64', 'arm64'],
            'the wanted platforms are in it',
          );
        }
      }
    });
  }
}
