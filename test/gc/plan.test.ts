/** planGc (pure): candidates, protections, deletions grouped by manifest. */
import t from 'tap';
import { planGc, type GcPlanInput } from '../../src/gc/index.js';
import type { DigestUse, UsedBy } from '../../src/in-use/index.js';
import type { ImageRecord } from '../../src/queue/index.js';

const H = 3_600_000;
const NOW = Date.parse('2025-06-01T00:00:00Z');
const at = (hoursAgo: number) => new Date(NOW - hoursAgo * H).toISOString();
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const MIRROR = 'mirror.local:5000';

function rec(ref: string, digest: string, extra: Partial<ImageRecord> = {}): ImageRecord {
  const path = ref.replace(/^docker\.io\//, '');
  return {
    ref,
    mirrorRef: `${MIRROR}/docker.io/${path}`,
    state: 'mirrored',
    attempts: 1,
    maxAttempts: 3,
    lastError: null,
    nextAttemptAt: null,
    digest,
    sourceDigest: digest,
    bytesTotal: 1,
    bytesDone: 1,
    updatedAt: at(1000),
    createdAt: at(1000),
    source: 'admission',
    mirroredAt: at(1000),
    blockedReason: null,
    ...extra,
  };
}

const seen = (hoursAgo: number): UsedBy => ({ pods: 0, namespaces: [], lastSeenAt: at(hoursAgo) });
const ran = (hoursAgo: number): DigestUse => ({ running: 0, lastSeenAt: at(hoursAgo) });

function input(records: ImageRecord[], extra: Partial<GcPlanInput> = {}): GcPlanInput {
  return {
    records,
    usedBy: new Map(),
    digestUses: new Map(),
    now: NOW,
    unusedForMs: 720 * H,
    keepUnusedForMs: 168 * H,
    trackedSince: NOW - 2000 * H,
    ...extra,
  };
}

const refsOf = (items: { ref: string }[]) => items.map((i) => i.ref);

t.test('a record no pod named for unusedFor goes; one seen recently or now stays', async (t) => {
  const old = rec('docker.io/library/a:1', D(1));
  const recent = rec('docker.io/library/b:1', D(2));
  const now = rec('docker.io/library/c:1', D(3));
  const plan = planGc(input([old, recent, now], { usedBy: new Map([[old.ref, seen(800)], [recent.ref, seen(10)], [now.ref, { pods: 2, namespaces: ['x'], lastSeenAt: at(0) }]]) }));
  t.same(refsOf(plan.remove), [old.ref]);
  t.same(plan.remove[0], { ref: old.ref, mirrorRef: old.mirrorRef, digest: D(1), unusedSince: at(800), kind: 'record' });
  t.same(plan.protected, [], 'not unused long enough is not "protected": it is no candidate at all');
  t.same(plan.deletions, [{ repository: `${MIRROR}/docker.io/library/a`, digest: D(1), refs: [old.ref], superseded: false, items: plan.remove }]);
});

t.test('never seen: unused since mirroredAt, but never since before the pod watch was tracked', async (t) => {
  const r = rec('docker.io/library/a:1', D(1), { mirroredAt: at(1000) });
  t.same(refsOf(planGc(input([r])).remove), [r.ref]);
  t.same(refsOf(planGc(input([r], { trackedSince: NOW - 10 * H })).remove), [], 'tracked for 10 h only: ferry does not know what ran before');
  t.same(refsOf(planGc(input([rec('docker.io/library/a:1', D(1), { mirroredAt: at(5) })])).remove), [], 'mirrored 5 h ago');
});

t.test('watch-owned, not mirrored and blocked records are no candidates; imported ones are protected', async (t) => {
  const records = [
    rec('docker.io/library/w:1', D(1), { source: 'watch' }),
    rec('docker.io/library/q:1', D(2), { state: 'queued' }),
    rec('docker.io/library/e:1', D(3), { state: 'error' }),
    rec('docker.io/library/b:1', D(4), { state: 'blocked', blockedReason: 'CVE' }),
    rec('docker.io/library/i:1', D(5), { source: 'import' }),
  ];
  const plan = planGc(input(records));
  t.same(plan.remove, []);
  t.same(refsOf(plan.protected), ['docker.io/library/i:1']);
  t.match(plan.protected[0]!.reason, /imported/);
});

t.test('a digest that runs, or ran within keepUnusedFor, is protected (mirror or upstream digest)', async (t) => {
  const running = rec('docker.io/library/a:1', D(1));
  const recently = rec('docker.io/library/b:1', D(2));
  const longAgo = rec('docker.io/library/c:1', D(3));
  const filtered = rec('docker.io/library/d:1', D(4), { sourceDigest: D(6) });
  const plan = planGc(
    input([running, recently, longAgo, filtered], {
      digestUses: new Map([
        [D(1), { running: 3, lastSeenAt: at(0) }],
        [D(2), ran(100)],
        [D(3), ran(200)],
        [D(6), { running: 1, lastSeenAt: at(0) }],
      ]),
    }),
  );
  t.same(refsOf(plan.remove), [longAgo.ref]);
  t.same(refsOf(plan.protected), [running.ref, recently.ref, filtered.ref]);
  t.match(plan.protected[0]!.reason, `digest ${D(1)} runs in 3 pods`);
  t.match(plan.protected[1]!.reason, /ran until .*gc\.keepUnusedFor/);
  t.match(plan.protected[2]!.reason, D(6));
});

t.test('a digest another kept record of the same mirror repository points at is protected; another repository does not count', async (t) => {
  const unused = rec('docker.io/library/a:old', D(1));
  const used = rec('docker.io/library/a:new', D(1));
  const otherRepo = rec('docker.io/library/z:1', D(1));
  const plan = planGc(input([unused, used, otherRepo], { usedBy: new Map([[used.ref, { pods: 1, namespaces: ['x'], lastSeenAt: at(0) }]]) }));
  t.same(refsOf(plan.protected), [unused.ref]);
  t.match(plan.protected[0]!.reason, /docker\.io\/library\/a:new.*every tag/);
  t.same(refsOf(plan.remove), [otherRepo.ref]);
});

t.test('a use-protected candidate protects its digest for the other tags on it', async (t) => {
  const a = rec('docker.io/library/a:1', D(1));
  const b = rec('docker.io/library/a:2', D(1), { sourceDigest: D(9) });
  const plan = planGc(input([a, b], { digestUses: new Map([[D(9), { running: 1, lastSeenAt: at(0) }]]) }));
  t.same(plan.remove, []);
  t.same(refsOf(plan.protected), [a.ref, b.ref]);
});

t.test('candidates sharing one manifest are one deletion', async (t) => {
  const a = rec('docker.io/library/a:1', D(1));
  const b = rec('docker.io/library/a@' + D(1), D(1), { mirrorRef: `${MIRROR}/docker.io/library/a@${D(1)}` });
  const plan = planGc(input([a, b]));
  t.equal(plan.deletions.length, 1);
  t.same(plan.deletions[0]!.refs.sort(), [a.ref, b.ref].sort());
  t.equal(plan.remove.length, 2);
});

t.test('children of an index that stays are protected; an unreadable index protects its whole repository', async (t) => {
  const tag = rec('docker.io/library/a:1', D(1)); // an index, in use
  const child = rec(`docker.io/library/a@${D(2)}`, D(2), { mirrorRef: `${MIRROR}/docker.io/library/a@${D(2)}` });
  const loose = rec('docker.io/library/a:old', D(3));
  const usedBy = new Map([[tag.ref, { pods: 1, namespaces: ['x'], lastSeenAt: at(0) }]]);
  const repo = `${MIRROR}/docker.io/library/a`;
  const children = new Map<string, string[] | null>([[`${repo}@${D(1)}`, [D(2), D(4)]]]);
  let plan = planGc(input([tag, child, loose], { usedBy, indexChildren: children }));
  t.same(refsOf(plan.protected), [child.ref]);
  t.match(plan.protected[0]!.reason, `a manifest of index ${D(1)}`);
  t.same(refsOf(plan.remove), [loose.ref]);

  plan = planGc(input([tag, child, loose], { usedBy, indexChildren: new Map([[`${repo}@${D(1)}`, null]]) }));
  t.same(plan.remove, [], 'unreadable: nothing of that repository goes');
  t.match(plan.protected[0]!.reason, /could not be read/);

  // An index candidate that a pod runs keeps its children too.
  const idx = rec('docker.io/library/b:1', D(5));
  const kid = rec(`docker.io/library/b@${D(6)}`, D(6), { mirrorRef: `${MIRROR}/docker.io/library/b@${D(6)}` });
  plan = planGc(input([idx, kid], { digestUses: new Map([[D(5), { running: 1, lastSeenAt: at(0) }]]), indexChildren: new Map([[`${MIRROR}/docker.io/library/b@${D(5)}`, [D(6)]]]) }));
  t.same(refsOf(plan.protected), [idx.ref, kid.ref]);
});

t.test('superseded digests: deleted once unused for keepUnusedFor, protected while run or shared', async (t) => {
  const repo = `${MIRROR}/docker.io/library/a`;
  const current = rec('docker.io/library/a:1', D(1), { mirroredAt: at(1) });
  const usedBy = new Map([[current.ref, { pods: 1, namespaces: ['x'], lastSeenAt: at(0) }]]);
  const superseded = [
    { repository: repo, digest: D(2), ref: current.ref, supersededAt: at(200) },
    { repository: repo, digest: D(3), ref: current.ref, supersededAt: at(200) },
    { repository: repo, digest: D(4), ref: current.ref, supersededAt: at(10) },
    { repository: repo, digest: D(1), ref: current.ref, supersededAt: at(300) },
  ];
  const plan = planGc(input([current], { usedBy, superseded, digestUses: new Map([[D(3), { running: 1, lastSeenAt: at(0) }]]) }));
  t.same(plan.remove, [{ ref: current.ref, mirrorRef: `${repo}@${D(2)}`, digest: D(2), unusedSince: null, kind: 'superseded' }]);
  t.same(plan.deletions.map((d) => [d.digest, d.superseded, d.refs]), [[D(2), true, []]]);
  t.same(plan.protected.map((p) => p.digest).sort(), [D(1), D(3)].sort(), 'D(3) runs; D(1) is the current digest again; D(4) is too recent to be listed');
});
