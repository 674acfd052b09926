/**
 * Garbage collection end to end: a real redis-server (records, the in-use
 * index), a real docker-registry as the mirror (deletes enabled, and one
 * that refuses them), images pushed with skopeo; `skopeo inspect --raw` says
 * what the mirror still holds.
 */
import t from 'tap';
import type { Test } from 'tap';
import { gcReportKey, runGc, type GcDeps, type GcReport } from '../../src/gc/index.js';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { buildImage, buildIndex, inspectRaw, pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { cleanupLayouts, copyTag, gcConfig, H, layoutDir, logger, pushNew, scene } from './support/env.js';

const [redis, mirror, refusing] = await Promise.all([startRedis(), startRegistry(), startRegistry({ deleteEnabled: false })]);
t.teardown(async () => {
  await Promise.all([redis.stop(), mirror.stop(), refusing.stop()]);
  cleanupLayouts();
});
t.jobs = 4;

let prefixes = 0;

/** A scene on its own prefix and a GC over it; `gc` overrides config keys. */
function setup(t: Test, o: { reg?: TestRegistry; gc?: Parameters<typeof gcConfig>[0]['gc']; withIndex?: boolean } = {}) {
  const reg = o.reg ?? mirror;
  const prefix = `gc${++prefixes}`;
  let config = gcConfig({ mirror: reg.host, prefix, ...(o.gc ? { gc: o.gc } : {}) });
  const s = scene(redis.url, prefix, reg.host);
  const engine = new RegistryEngine({ config, retries: 0 });
  t.teardown(async () => {
    await engine.close();
    s.close();
  });
  const gc = (extra: { inUse?: false | GcDeps['inUse'] } = {}) =>
    runGc({ config: () => config, redis: s.conn, store: s.store, engine, logger, now: s.now, ...(extra.inUse === false ? {} : { inUse: extra.inUse ?? s.inUse }) });
  return { s, gc, prefix, setConfig: (c: typeof config) => (config = c), config: () => config };
}

const podOf = (ref: string) => `pod-${ref.replace(/[^a-z0-9]/g, '-')}`;

/**
 * `ref` mirrored (pushed to its mirror path) with a record; a pod ran it
 * until `hoursAgo` before the clock (null: it runs now). The clock ends where it was.
 */
async function image(s: ReturnType<typeof scene>, ref: string, hoursAgo: number | null, o: { digestOf?: string } = {}) {
  const mirrorRef = s.mirrorRefOf(ref);
  const digest = o.digestOf ?? (await pushNew(mirrorRef)).digest;
  const base = s.clock.ms;
  s.clock.ms = base - ((hoursAgo ?? 0) + 1) * H;
  await s.record(ref, digest);
  await s.run(podOf(ref), ref, digest);
  s.clock.ms = base - (hoursAgo ?? 0) * H;
  if (hoursAgo !== null) await s.stop(podOf(ref));
  s.clock.ms = base;
  return { ref, mirrorRef, digest, repo: repositoryOf(parseReference(mirrorRef)) };
}

t.test('without a live pod watch GC is skipped and deletes nothing', async (t) => {
  const { s, gc, prefix } = setup(t);
  const img = await image(s, 'docker.io/demo/blind:1', 1000);
  let report = await gc();
  t.match(report.skipped, /has not synced yet.*deletes nothing/);
  t.same([report.removed, report.protected, report.errors], [[], [], []]);
  t.same(JSON.parse((await s.conn.get(gcReportKey(prefix)))!), report, 'the report is stored for GET /api/gc');
  await s.live();
  s.clock.ms += 11 * 60_000; // the heartbeat expired: the pod watch stopped
  report = await gc();
  t.match(report.skipped, /not live \(last synced/);
  report = await gc({ inUse: false });
  t.match(report.skipped, /watches no pods/);
  t.ok(await inspectRaw(`${img.repo}@${img.digest}`), 'the manifest is still in the mirror');
  t.ok(await s.store.get(img.ref), 'and the record');
});

t.test('gc.enabled: false skips', async (t) => {
  const { s, gc } = setup(t, { gc: { enabled: false } });
  await s.live();
  t.equal((await gc()).skipped, 'gc.enabled is false');
});

t.test('dryRun reports what would go and deletes nothing', async (t) => {
  const { s, gc } = setup(t, { gc: { dryRun: true } });
  const img = await image(s, 'docker.io/demo/dry:1', 721);
  await s.live();
  const report = await gc();
  t.equal(report.skipped, null);
  t.equal(report.dryRun, true);
  t.same(report.removed.map((i) => [i.ref, i.digest, i.kind]), [[img.ref, img.digest, 'record']]);
  t.equal(report.removed[0]!.unusedSince, new Date(s.clock.ms - 721 * H).toISOString());
  t.equal((await inspectRaw(img.mirrorRef))?.digest, img.digest, 'still in the mirror');
  t.ok(await s.store.get(img.ref), 'record kept');
});

t.test('a real run deletes the manifest from the mirror, then the record; used and recently used images stay', async (t) => {
  const { s, gc, prefix } = setup(t);
  const old = await image(s, 'docker.io/demo/old:1', 721);
  const recent = await image(s, 'docker.io/demo/recent:1', 10);
  const running = await image(s, 'docker.io/demo/running:1', null);
  await s.live();
  const report = await gc();
  t.same(report.removed.map((i) => i.ref), [old.ref]);
  t.same(report.errors, []);
  t.equal(await inspectRaw(old.mirrorRef), undefined, 'the tag is gone');
  t.equal(await inspectRaw(`${old.repo}@${old.digest}`), undefined, 'the manifest is gone');
  t.equal(await s.store.get(old.ref), undefined, 'the record is gone (admission must never rewrite to a missing image)');
  t.equal((await inspectRaw(recent.mirrorRef))?.digest, recent.digest, 'used 10 h ago: stays');
  t.equal((await inspectRaw(running.mirrorRef))?.digest, running.digest, 'running: stays');
  t.same(JSON.parse((await s.conn.get(gcReportKey(prefix)))!), report);
  t.same((await gc()).removed, [], 'a second run finds nothing more');
});

t.test('a digest shared with a kept tag of the same repository is protected', async (t) => {
  const { s, gc } = setup(t);
  // kept: mirrored just now (no pod yet), so no digest use protects it, only the tag sharing
  const newRef = 'docker.io/demo/shared:new';
  const used = { ref: newRef, mirrorRef: s.mirrorRefOf(newRef), digest: (await pushNew(s.mirrorRefOf(newRef))).digest };
  await s.record(newRef, used.digest);
  // the same manifest under a second tag
  await copyTag(used.mirrorRef, s.mirrorRefOf('docker.io/demo/shared:old'));
  const unused = await image(s, 'docker.io/demo/shared:old', 900, { digestOf: used.digest });
  await s.live();
  const report = await gc();
  t.same(report.removed, []);
  t.same(report.protected.map((i) => i.ref), [unused.ref]);
  t.match(report.protected[0]!.reason, /docker\.io\/demo\/shared:new.*every tag/);
  t.equal((await inspectRaw(unused.mirrorRef))?.digest, used.digest, 'the old tag stays too');
});

t.test('a digest a pod runs under another name (pinned mirror@digest) is protected', async (t) => {
  const { s, gc } = setup(t);
  const img = await image(s, 'docker.io/demo/pinned:1', 900);
  // rewrite.pinDigest: the pod runs mirror@digest; the index names the digest it runs
  await s.inUse.setPod('shop', 'pinned', [
    { namespace: 'shop', pod: 'pinned', container: 'app', list: 'containers', node: 'n', image: `${img.repo}@${img.digest}`, ref: `docker.io/demo/pinned@${img.digest}`, digest: img.digest, rewritten: true },
  ]);
  await s.live();
  const report = await gc();
  t.same(report.removed, []);
  t.match(report.protected[0], { ref: img.ref, reason: new RegExp(`digest ${img.digest} runs in 1 pod`) });
  t.ok(await inspectRaw(`${img.repo}@${img.digest}`));
});

t.test('the child manifest of an index that stays is protected', async (t) => {
  const { s, gc } = setup(t);
  const layout = layoutDir();
  const amd = buildImage(layout, { tag: 'amd', layerSizes: [512], architecture: 'amd64' });
  const arm = buildImage(layout, { tag: 'arm', layerSizes: [512], architecture: 'arm64' });
  const index = buildIndex(layout, 'multi', [
    { image: amd, os: 'linux', architecture: 'amd64' },
    { image: arm, os: 'linux', architecture: 'arm64' },
  ]);
  const tagRef = 'docker.io/demo/multi:1';
  await pushImage(layout, 'multi', s.mirrorRefOf(tagRef));
  await image(s, tagRef, null, { digestOf: index.digest });
  const childRef = `docker.io/demo/multi@${amd.digest}`;
  const child = await image(s, childRef, 900, { digestOf: amd.digest });
  await s.live();
  const report = await gc();
  t.same(report.removed, []);
  t.match(report.protected, [{ ref: childRef, reason: new RegExp(`a manifest of index ${index.digest}`) }]);
  t.ok(await inspectRaw(`${child.repo}@${amd.digest}`), 'the child stays');
});

t.test('a mirror that refuses deletes: errors, the record stays', async (t) => {
  const { s, gc } = setup(t, { reg: refusing });
  const a = await image(s, 'docker.io/demo/refused:1', 900);
  const b = await image(s, 'docker.io/demo/refused:2', 900);
  await s.live();
  const report = await gc();
  t.same(report.removed, []);
  t.equal(report.errors.length, 2);
  t.match(report.errors.map((e) => e.reason).join('\n'), /storage\.delete\.enabled/);
  t.ok(await s.store.get(a.ref));
  t.ok(await s.store.get(b.ref));
  t.ok(await inspectRaw(a.mirrorRef));
});

t.test('never seen by the pod watch: counted unused only from the first run that found it live', async (t) => {
  const { s, gc } = setup(t);
  const ref = 'docker.io/demo/never:1';
  const digest = (await pushNew(s.mirrorRefOf(ref))).digest;
  s.clock.ms -= 1000 * H;
  await s.record(ref, digest); // mirrored 1000 h ago, no pod ever seen
  s.clock.ms += 1000 * H;
  await s.live();
  let report: GcReport = await gc();
  t.same(report.removed, [], 'first live run: ferry has not watched pods for unusedFor yet');
  s.clock.ms += 721 * H;
  await s.live();
  report = await gc();
  t.same(report.removed.map((i) => i.ref), [ref]);
  t.equal(report.removed[0]!.unusedSince, null);
});

t.test('the pod watch stops being live during the run: no delete is made after that', async (t) => {
  const { s, gc } = setup(t);
  const a = await image(s, 'docker.io/demo/lost:1', 900);
  await s.live();
  let asked = 0;
  // live when the run starts, then the tracker's heartbeat is gone (it died, or Redis lost its data)
  const inUse: GcDeps['inUse'] = {
    live: async () => (asked++ === 0 ? s.inUse.live() : { live: false, syncedAt: new Date(s.clock.ms).toISOString() }),
    usedBy: (refs) => s.inUse.usedBy(refs),
    digestUses: (digests) => s.inUse.digestUses(digests),
  };
  const report = await gc({ inUse });
  t.same(report.removed, []);
  t.match(report.errors, [{ ref: a.ref, reason: /not attempted: the pod watch stopped being live/ }]);
  t.ok(await inspectRaw(`${a.repo}@${a.digest}`), 'the manifest stays');
  t.ok(await s.store.get(a.ref), 'and the record');
});

t.test('a reload turning dryRun on (or GC off) during a run stops its deletes', async (t) => {
  const { s, gc, config, setConfig } = setup(t);
  const a = await image(s, 'docker.io/demo/reload:1', 900);
  await s.live();
  for (const flip of [{ dryRun: true }, { enabled: false }]) {
    const before = config();
    let planned = false;
    // the plan reads usedBy once; the reload lands after it, before the deletes
    const inUse: GcDeps['inUse'] = {
      live: () => s.inUse.live(),
      usedBy: async (refs) => {
        const out = await s.inUse.usedBy(refs);
        if (!planned) setConfig({ ...before, gc: { ...before.gc, ...flip } });
        planned = true;
        return out;
      },
      digestUses: (digests) => s.inUse.digestUses(digests),
    };
    const report = await gc({ inUse });
    t.same(report.removed, [], JSON.stringify(flip));
    t.match(report.errors, [{ ref: a.ref, reason: /not attempted: gc\.(dryRun was turned on|enabled was turned off)/ }]);
    t.ok(await inspectRaw(`${a.repo}@${a.digest}`), 'the manifest stays');
    setConfig(before);
  }
});
