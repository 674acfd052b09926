import t from 'tap';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { compilePolicy, decide, effectiveMode, effectivePullPolicy, type ContainerInput } from '../../src/policy/index.js';
import type { ImageView } from '../../src/queue/record.js';

const M = '127.0.0.1:5000';
function cfg(raw: object = {}): FerryConfig {
  return resolveConfig({ mirror: { registry: M }, ...raw }).config;
}
const mirrored = (digest = 'sha256:' + 'a'.repeat(64)): ImageView => ({ state: 'mirrored', digest, mirroredAt: '2026-01-01T00:00:00Z', blockedReason: null });
const states = (m: Record<string, ImageView>) => (ref: string) => m[ref];
const c = (image: string, name = 'app', extra: Partial<ContainerInput> = {}): ContainerInput => ({ list: 'containers', index: 0, name, image, ...extra });

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
    const d = decide({ namespace: 'shop', annotations: {}, containers: [c('nginx:1.27')] }, {}, policy, lookup);
    const label = `${mode}/${available ? 'mirrored' : 'unknown'}`;
    t.equal(d.containers[0]!.image, rewritten ? `${M}/docker.io/library/nginx:1.27` : undefined, `${label}: rewrite`);
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
    { namespace: 'shop', annotations: {}, containers: [c('nginx:1.27', 'web'), c('redis:7', 'cache'), c('busybox', 'sh')] },
    {},
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
  const d = decide({ namespace: 'x', annotations: {}, containers: [c('nginx:1.27')] }, {}, policy, lookup);
  t.equal(d.containers[0]!.image, `${M}/docker.io/library/nginx:1.27`);
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
    const d = decide({ namespace: 'x', annotations: {}, containers: [c(image)] }, {}, policy, () => undefined);
    t.equal(d.containers[0]!.image !== undefined, rewritten, image);
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
        containers: [c('badger:1', 'a'), c('pinned:1', 'b'), c(`alpine@${digest}`, 'c'), c('manual:1', 'd'), c('good:1', 'e')],
      },
      {},
      policy,
      lookup,
    );
    t.equal(d.denials.length, 4, mode);
    t.match(d.denials.join('\n'), /CVE-2026-1[\s\S]*tampered[\s\S]*tampered[\s\S]*ops said no/, mode);
  }
});

t.test('skip annotation on pod or namespace leaves images alone', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'always' } }));
  for (const [pod, ns] of [[{ 'ferry.io/skip': 'true' }, {}], [{}, { 'ferry.io/skip': 'true' }]] as const) {
    const d = decide({ namespace: 'x', annotations: pod, containers: [c('nginx')] }, ns, policy, () => undefined);
    t.equal(d.containers[0]!.image, undefined);
    t.same(d.enqueue, []);
    t.equal(d.containers[0]!.pullPolicy, undefined);
  }
});

t.test('references already in the mirror are left alone; invalid references are reported, not fatal', async (t) => {
  const policy = compilePolicy(cfg({ rewrite: { mode: 'enforce' } }));
  const d = decide(
    { namespace: 'x', annotations: {}, containers: [c(`${M}/docker.io/library/nginx:1.27`, 'm'), c('docker.io/Library/nginx:1', 'bad'), c(`${M}/handmade:1`, 'h')] },
    {},
    policy,
    () => undefined,
  );
  t.same(d.denials, []);
  t.equal(d.containers[0]!.image, undefined);
  t.equal(d.containers[0]!.ref, 'docker.io/library/nginx:1.27', 'judged as its upstream');
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
    { namespace: 'a', annotations: {}, containers: [c('nginx', 'x', { imagePullPolicy: 'Always' }), c('redis', 'y', { imagePullPolicy: 'IfNotPresent' })] },
    {},
    policy,
    () => undefined,
  );
  t.equal(d.containers[0]!.pullPolicy, 'IfNotPresent', 'changed');
  t.equal(d.containers[1]!.pullPolicy, undefined, 'already right: no change');
});

t.test('pinDigest rewrites to the mirrored digest', async (t) => {
  const digest = 'sha256:' + 'd'.repeat(64);
  const policy = compilePolicy(cfg({ rewrite: { mode: 'mirrored', pinDigest: true } }));
  const d = decide({ namespace: 'a', annotations: {}, containers: [c('nginx:1.27')] }, {}, policy, states({ 'docker.io/library/nginx:1.27': mirrored(digest) }));
  t.equal(d.containers[0]!.image, `${M}/docker.io/library/nginx:1.27@${digest}`);
  t.same(d.originalImages, { app: 'nginx:1.27' });
});

t.test('one enqueue per distinct image per pod', async (t) => {
  const policy = compilePolicy(cfg());
  const d = decide({ namespace: 'a', annotations: {}, containers: [c('nginx', 'a'), c('docker.io/library/nginx:latest', 'b'), c('index.docker.io/library/nginx', 'c')] }, {}, policy, () => undefined);
  t.same(d.enqueue, [{ ref: 'docker.io/library/nginx:latest', mirrorRef: `${M}/docker.io/library/nginx:latest` }]);
});
