import t from 'tap';
import { planPulls, selectorMatches } from '../../src/agent/plan.js';
import { toMirrorReference } from '../../src/reference/index.js';

const mirrorRefOf = (r: string) => toMirrorReference(r, { registry: 'mirror.local:5000', prefix: 'm' });

t.test('selectorMatches: every key=value, empty selector matches, unknown labels undecided', async (t) => {
  t.equal(selectorMatches(undefined, {}), true);
  t.equal(selectorMatches({}, undefined), true);
  t.equal(selectorMatches({ pool: 'gpu' }, { pool: 'gpu', zone: 'a' }), true);
  t.equal(selectorMatches({ pool: 'gpu', zone: 'b' }, { pool: 'gpu', zone: 'a' }), false);
  t.equal(selectorMatches({ pool: 'gpu' }, {}), false);
  t.equal(selectorMatches({ pool: 'gpu' }, undefined), undefined);
});

t.test('planPulls: normalized, mapped to the mirror, filtered by nodeSelector, deduplicated', async (t) => {
  const plan = planPulls({
    prepull: [
      { image: 'nginx:1.27' },
      { image: 'docker.io/library/nginx:1.27' },
      { image: 'ghcr.io/acme/gpu-tool:2', nodeSelector: { pool: 'gpu' } },
      { image: 'quay.io/acme/arm:1', nodeSelector: { 'kubernetes.io/arch': 'arm64' } },
      { image: 'Not A Ref' },
    ],
    labels: { pool: 'gpu', 'kubernetes.io/arch': 'amd64' },
    inUse: ['docker.io/library/nginx:1.27', 'redis:7'],
    mirrorRefOf,
  });
  t.same(plan.pulls, [
    { image: 'docker.io/library/nginx:1.27', ref: 'mirror.local:5000/m/docker.io/library/nginx:1.27', source: 'config' },
    { image: 'ghcr.io/acme/gpu-tool:2', ref: 'mirror.local:5000/m/ghcr.io/acme/gpu-tool:2', source: 'config' },
    { image: 'docker.io/library/redis:7', ref: 'mirror.local:5000/m/docker.io/library/redis:7', source: 'in-use' },
  ]);
  t.same(
    plan.skipped.map((s) => s.image),
    ['quay.io/acme/arm:1', 'Not A Ref'],
  );
  t.match(plan.skipped[0]!.reason, /does not match/);
  t.match(plan.skipped[1]!.reason, /not an image reference/);
});

t.test('planPulls: without known labels, entries with a nodeSelector do not apply; the rest do', async (t) => {
  const plan = planPulls({ prepull: [{ image: 'busybox' }, { image: 'alpine:3', nodeSelector: { a: 'b' } }], labels: undefined, mirrorRefOf });
  t.same(plan.pulls.map((p) => p.image), ['docker.io/library/busybox:latest']);
  t.match(plan.skipped, [{ image: 'alpine:3', reason: /labels are not known/ }]);
});

t.test('planPulls: a digest reference keeps its digest', async (t) => {
  const d = 'sha256:' + 'a'.repeat(64);
  const plan = planPulls({ prepull: [{ image: `alpine@${d}` }], labels: {}, mirrorRefOf });
  t.equal(plan.pulls[0]!.ref, `mirror.local:5000/m/docker.io/library/alpine@${d}`);
});

t.test('workload images: pulled as indexed (no second mirror mapping), after config and in-use entries', async (t) => {
  const plan = planPulls({
    prepull: [{ image: 'nginx:1.27' }],
    labels: {},
    inUse: [],
    workloads: [
      { ref: 'docker.io/library/nginx:1.27', pull: 'mirror.local/docker.io/library/nginx:1.27' },
      { ref: 'registry.k8s.io/coredns/coredns:v1.11.1', pull: 'registry.k8s.io/coredns/coredns:v1.11.1' },
    ],
    mirrorRefOf: (r) => `mirror.local/${r}`,
  });
  t.same(plan.pulls, [
    { image: 'docker.io/library/nginx:1.27', ref: 'mirror.local/docker.io/library/nginx:1.27', source: 'config' },
    { image: 'registry.k8s.io/coredns/coredns:v1.11.1', ref: 'registry.k8s.io/coredns/coredns:v1.11.1', source: 'workload' },
  ]);
});
