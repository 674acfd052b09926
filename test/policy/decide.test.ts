import t from 'tap';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { compilePolicy, decide, effectiveMode, effectivePullPolicy, validatePod, type ImageUse } from '../../src/policy/index.js';
import type { ImageView } from '../../src/queue/record.js';

const M = '127.0.0.1:5000';
function cfg(raw: object = {}): FerryConfig {
  return resolveConfig({ mirror: { registry: M }, ...raw }).config;
}
const mirrored = (digest = 'sha256:' + 'a'.repeat(64)): ImageView => ({ state: 'mirrored', digest, mirroredAt: '2026-01-01T00:00:00Z', blockedReason: null });
const states = (m: Record<string, ImageView>) => (ref: string) => m[ref];
const c = (image: string, name = 'app', extra: Partial<ImageUse> = {}): ImageUse => ({ list: 'containers', index: 0, name, image, ...extra });

t.test('modes: what is rewritten and what is enqueued', async (t) => {
  const rows: [mode: string, available: boolean, rewritten: boolean, enqueued: boolean, denied: boolean][] = [
    ['off', false, false, true, false],
    ['off', true, false, false, false],
    ['mirrored', false, false, true, false],
    ['mirrored', true, true, false, false],
    ['always', false, true, true, false],
    ['always', true, true, false, false],
    ['enforce', false, false, true, true],
    ['enforce', true, true, false, false],
  ];
  for (const [mode, available, rewritten, enqueued, denied] of rows) {
    const policy = compilePolicy(cfg({ rewrite: { mode } }));
    const lookup = states(available ? { 'docker.io/library/nginx:1.27': mirrored() } : {});
    const d = decide({ namespace: 'shop', annotations: {}, images: [c('nginx:1.27')] }, { annotations: {} }, policy, lookup);
    const label = `${mode}/${available ? 'mirrored' : 'unknown'}`;
    t.equal(d.images[0]!.image, rewritten ? `${M}/docker.io/library/nginx:1.27` : undefined, `${label}: rewrite`);
    t.same(d.enqueue.map((e) => e.ref), enqueued ? ['docker.io/library/nginx:1.27'] : [], `${label}: enqueue`);
    t.equal(d.denials.length > 0, denied, `${label}: denial`);
  }
});

t.test('enforce names each unavailable image and its state', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'enforce' } }));
  const lookup = states({
    'docker.io/library/redis:7': { state: 'error', digest: null, mirroredAt: null, blockedReason: null },
    'docker.io/library/nginx:1.27': mirrored(),
  });
  const d = decide(
    { namespace: 'shop', annotations: {}, images: [c('nginx:1.27', 'web'), c('redis:7', 'cache'), c('busybox', 'sh')] },
    { annotations: {} },
    policy,
    lookup,
  );
  t.equal(d.denials.length, 2);
  t.match(d.denials[0], /redis:7.*"cache".*in error/);
  t.match(d.denials[1], /busybox.*"sh".*not mirrored yet/);
});

t.test('an image mirrored once stays usable while a re-copy runs', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'mirrored' } }));
  const lookup = states({ 'docker.io/library/nginx:1.27': { state: 'copying', digest: 'sha256:' + 'b'.repeat(64), mirroredAt: '2026-01-01T00:00:00Z', blockedReason: null } });
  const d = decide({ namespace: 'x', annotations: {}, images: [c('nginx:1.27')] }, { annotations: {} }, policy, lookup);
  t.equal(d.images[0]!.image, `${M}/docker.io/library/nginx:1.27`);
  t.same(d.enqueue, [], 'a known image is not enqueued again by admission');
});

t.test('include/exclude globs on normalized references', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always', include: ['docker.io/**', 'ghcr.io/acme/*'], exclude: ['docker.io/library/busybox:*'] } }));
  const rows: [string, boolean][] = [
    ['nginx', true],
    ['docker.io/bitnami/redis:7', true],
    ['busybox:1.36', false],
    ['ghcr.io/acme/app:1', true],
    ['ghcr.io/acme/team/app:1', false],
    ['quay.io/x/y:1', false],
  ];
  for (const [image, rewritten] of rows) {
    const d = decide({ namespace: 'x', annotations: {}, images: [c(image)] }, { annotations: {} }, policy, () => undefined);
    t.equal(d.images[0]!.image !== undefined, rewritten, image);
    t.equal(d.enqueue.length > 0, rewritten, `${image} enqueued only when included`);
  }
});

t.test('block rules by pattern, by digest, and by record state deny in every mode, even with skip', async (t) => {
  const digest = 'sha256:' + 'c'.repeat(64);
  for (const mode of ['off', 'mirrored', 'always', 'enforce']) {
    const policy = compilePolicy(cfg({ rewrite: { mode }, block: [{ pattern: 'docker.io/library/bad*', reason: 'CVE-2026-1' }, { digest, reason: 'tampered' }] }));
    const lookup = states({
      'docker.io/library/pinned:1': mirrored(digest),
      'docker.io/library/manual:1': { state: 'blocked', digest: null, mirroredAt: null, blockedReason: 'ops said no' },
    });
    const d = decide(
      {
        namespace: 'x',
        annotations: { 'ferry.io/skip': 'true' },
        images: [c('badger:1', 'a'), c('pinned:1', 'b'), c(`alpine@${digest}`, 'c'), c('manual:1', 'd'), c('good:1', 'e')],
      },
      { annotations: {} },
      policy,
      lookup,
    );
    // skip is honoured below enforce (good:1 left alone), ignored in it (good:1 is not mirrored)
    t.equal(d.denials.length, mode === 'enforce' ? 5 : 4, mode);
    t.match(d.denials.join('\n'), /CVE-2026-1[\s\S]*tampered[\s\S]*tampered[\s\S]*ops said no/, mode);
  }
});

t.test('skip annotation on pod or namespace leaves images alone', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always' } }));
  for (const [pod, ns] of [[{ 'ferry.io/skip': 'true' }, {}], [{}, { 'ferry.io/skip': 'true' }]] as const) {
    const d = decide({ namespace: 'x', annotations: pod, images: [c('nginx')] }, { annotations: ns }, policy, () => undefined);
    t.equal(d.images[0]!.image, undefined);
    t.same(d.enqueue, []);
    t.equal(d.images[0]!.pullPolicy, undefined);
  }
});

t.test('ferry.io/skip (annotation or label, pod or namespace) opts out of rewriting only: blocks and enforce still apply', async (t) => {
  const lookup = states({ 'docker.io/library/redis:7': mirrored() });
  const askers: [string, Partial<{ annotations: Record<string, string>; labels: Record<string, string> }>, { annotations: Record<string, string>; labels?: Record<string, string> }][] = [
    ['pod annotation', { annotations: { 'ferry.io/skip': 'true' } }, { annotations: {} }],
    ['pod label', { labels: { 'ferry.io/skip': 'true' } }, { annotations: {} }],
    ['namespace annotation', {}, { annotations: { 'ferry.io/skip': 'true' } }],
    ['namespace label', {}, { annotations: {}, labels: { 'ferry.io/skip': 'true' } }],
  ];
  for (const [who, pod, ns] of askers) {
    const enforce = compilePolicy(cfg({ rewrite: { mode: 'enforce' }, block: [{ pattern: 'docker.io/library/bad:*', reason: 'CVE-2026-9' }] }));
    const d = decide({ namespace: 'x', annotations: {}, ...pod, images: [c('nginx:1.27', 'a'), c('redis:7', 'b'), c('bad:1', 'c')] }, ns, enforce, lookup);
    t.equal(d.skipped, false, `${who}: not honoured under enforce`);
    t.match(d.denials, [/nginx:1\.27.*not mirrored/, /bad:1.*CVE-2026-9/], `${who}: enforce and block still deny`);
    t.equal(d.images[1]!.image, `${M}/docker.io/library/redis:7`, `${who}: enforce still rewrites`);
    t.match(d.warnings, [/ferry\.io\/skip is ignored: mode enforce/], `${who}: the pod author is told why`);

    const always = compilePolicy(cfg({ rewrite: { mode: 'always' }, block: [{ pattern: 'docker.io/library/bad:*', reason: 'CVE-2026-9' }] }));
    const s = decide({ namespace: 'x', annotations: {}, ...pod, images: [c('nginx:1.27', 'a'), c('bad:1', 'c')] }, ns, always, lookup);
    t.equal(s.skipped, true, `${who}: honoured in always`);
    t.equal(s.images[0]!.image, undefined, `${who}: not rewritten`);
    t.match(s.denials, [/bad:1.*CVE-2026-9/], `${who}: blocks still deny`);
  }
});

t.test('image volumes are judged like containers', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'enforce' }, block: [{ pattern: 'docker.io/library/bad:*', reason: 'no' }] }));
  const lookup = states({ 'docker.io/library/models:1': mirrored() });
  const v = (image: string, name: string): ImageUse => ({ list: 'volumes', index: 0, name, image });
  const d = decide({ namespace: 'x', annotations: {}, images: [v('models:1', 'weights'), v('data:2', 'data'), v('bad:1', 'evil')] }, { annotations: {} }, policy, lookup);
  t.equal(d.images[0]!.image, `${M}/docker.io/library/models:1`);
  t.same(d.originalImages, { 'volume/weights': 'models:1' }, 'recorded under volume/<name>');
  t.match(d.denials, [/data:2.*image volume "data".*not mirrored/, /bad:1.*image volume "evil".*blocked/]);
  t.same(d.enqueue.map((e) => e.ref), ['docker.io/library/data:2']);
});

t.test('setPullPolicy false (a pod UPDATE): images are judged, pull policies never set', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always' }, pullPolicy: { default: 'Always', force: true } }));
  const d = decide({ namespace: 'x', annotations: {}, setPullPolicy: false, images: [c('nginx:1.27', 'a', { pullPolicy: 'IfNotPresent' })] }, { annotations: {} }, policy, () => undefined);
  t.equal(d.images[0]!.image, `${M}/docker.io/library/nginx:1.27`);
  t.equal(d.images[0]!.pullPolicy, undefined);
});

t.test('validatePod: deny-only; in enforce an image that is not from the mirror is denied', async (t) => {
  const lookup = states({ 'docker.io/library/redis:7': mirrored() });
  const images = [c(`${M}/docker.io/library/nginx:1.27`, 'app'), c('redis:7', 'sidecar')];
  const enforce = validatePod({ namespace: 'x', annotations: {}, images }, { annotations: {} }, compilePolicy(cfg({ rewrite: { mode: 'enforce' } })), lookup);
  t.match(enforce.denials, [/redis:7.*container "sidecar".*does not come from the mirror.*admits only 127\.0\.0\.1:5000\/docker\.io\/library\/redis:7/]);
  const always = validatePod({ namespace: 'x', annotations: {}, images }, { annotations: {} }, compilePolicy(cfg({ rewrite: { mode: 'always' } })), lookup);
  t.same(always.denials, [], 'always rewrites where it can; it does not deny');
});

t.test('references already in the mirror are left alone; invalid references are reported, not fatal', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'enforce' } }));
  const d = decide(
    { namespace: 'x', annotations: {}, images: [c(`${M}/docker.io/library/nginx:1.27`, 'm'), c('docker.io/Library/nginx:1', 'bad'), c(`${M}/handmade:1`, 'h')] },
    { annotations: {} },
    policy,
    () => undefined,
  );
  t.same(d.denials, []);
  t.equal(d.images[0]!.image, undefined);
  t.equal(d.images[0]!.ref, 'docker.io/library/nginx:1.27', 'judged as its upstream');
  t.same(d.enqueue, []);
  t.equal(d.warnings.length, 1);
  t.match(d.warnings[0], /"bad".*Library\/nginx:1.*not a valid reference/);
});

t.test('mode precedence: pod > namespace annotation > config namespaces > default; pods cannot weaken enforce', async (t) => {
  const config = cfg({ rewrite: { mode: 'mirrored', namespaces: { strict: 'enforce', lab: 'off' } } });
  const rows: [ns: string, podAnn: string | undefined, nsAnn: string | undefined, expected: string][] = [
    ['a', undefined, undefined, 'mirrored'],
    ['lab', undefined, undefined, 'off'],
    ['kube-system', undefined, undefined, 'off'],
    ['a', 'always', undefined, 'always'],
    ['a', undefined, 'off', 'off'],
    ['a', 'always', 'off', 'always'],
    ['a', 'bogus', undefined, 'mirrored'],
    ['strict', 'off', undefined, 'enforce'],
    ['a', 'off', 'enforce', 'enforce'],
    ['lab', 'enforce', undefined, 'enforce'],
    // a namespace annotation is a default, never a way around the operator's enforce
    ['strict', undefined, 'off', 'enforce'],
    ['strict', 'off', 'mirrored', 'enforce'],
    ['strict', 'always', 'always', 'enforce'],
  ];
  for (const [ns, podAnn, nsAnn, expected] of rows) {
    const mode = effectiveMode(config, ns, podAnn ? { 'ferry.io/mode': podAnn } : {}, nsAnn ? { 'ferry.io/mode': nsAnn } : {});
    t.equal(mode, expected, `${ns} pod=${podAnn} ns=${nsAnn}`);
  }
  t.equal(effectiveMode(cfg(), 'kube-system', {}, {}), 'off', 'kube-system is off by default');
});

t.test('pull policy: default, per namespace, annotations when allowed, force', async (t) => {
  const rows: [raw: object, ns: string, pod: string | undefined, nsAnn: string | undefined, expected: string][] = [
    [{}, 'a', undefined, undefined, 'IfNotPresent'],
    [{ pullPolicy: { default: 'Always' } }, 'a', undefined, undefined, 'Always'],
    [{ pullPolicy: { namespaces: { a: 'Never' } } }, 'a', undefined, undefined, 'Never'],
    [{}, 'a', 'Always', undefined, 'Always'],
    [{}, 'a', undefined, 'Never', 'Never'],
    [{}, 'a', 'Always', 'Never', 'Always'],
    [{ pullPolicy: { allowOverride: false } }, 'a', 'Always', 'Never', 'IfNotPresent'],
    [{ pullPolicy: { force: true, namespaces: { a: 'Never' } } }, 'a', 'Always', undefined, 'Never'],
    [{ pullPolicy: { force: true } }, 'a', 'Always', undefined, 'IfNotPresent'],
    [{}, 'a', 'Sometimes', undefined, 'IfNotPresent'],
  ];
  for (const [raw, ns, pod, nsAnn, expected] of rows) {
    const got = effectivePullPolicy(cfg(raw), ns, pod ? { 'ferry.io/pull-policy': pod } : {}, nsAnn ? { 'ferry.io/pull-policy': nsAnn } : {});
    t.equal(got, expected, JSON.stringify({ raw, pod, nsAnn }));
  }
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always' } }));
  const d = decide(
    { namespace: 'a', annotations: {}, images: [c('nginx', 'x', { pullPolicy: 'Always' }), c('redis', 'y', { pullPolicy: 'IfNotPresent' })] },
    { annotations: {} },
    policy,
    () => undefined,
  );
  t.equal(d.images[0]!.pullPolicy, 'IfNotPresent', 'changed');
  t.equal(d.images[1]!.pullPolicy, undefined, 'already right: no change');
});

t.test('pinDigest rewrites to the mirrored digest', async (t) => {
  const digest = 'sha256:' + 'd'.repeat(64);
  const policy = compilePolicy(cfg({ rewrite: { mode: 'mirrored', pinDigest: true } }));
  const d = decide({ namespace: 'a', annotations: {}, images: [c('nginx:1.27')] }, { annotations: {} }, policy, states({ 'docker.io/library/nginx:1.27': mirrored(digest) }));
  t.equal(d.images[0]!.image, `${M}/docker.io/library/nginx:1.27@${digest}`);
  t.same(d.originalImages, { app: 'nginx:1.27' });
});

t.test('one enqueue per distinct image per pod', async (t) => {
  const policy = compilePolicy(cfg());
  const d = decide({ namespace: 'a', annotations: {}, images: [c('nginx', 'a'), c('docker.io/library/nginx:latest', 'b'), c('index.docker.io/library/nginx', 'c')] }, { annotations: {} }, policy, () => undefined);
  t.same(d.enqueue, [{ ref: 'docker.io/library/nginx:latest', mirrorRef: `${M}/docker.io/library/nginx:latest` }]);
});
