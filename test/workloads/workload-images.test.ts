/** workloadImages (pure): what a workload's pods will pull, and selectorMatches / imagesForNode. */
import t from 'tap';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { podImages } from '../../src/in-use/index.js';
import { ANNOTATION_ORIGINAL_IMAGES } from '../../src/policy/index.js';
import { imagesForNode, selectorMatches, workloadImages, type WorkloadImageUse, type WorkloadKind } from '../../src/workloads/index.js';

const M = 'mirror.local:5000';
function cfg(raw: object = {}): FerryConfig {
  return resolveConfig({ mirror: { registry: M }, ...raw }).config;
}
const config = cfg();

function workload(o: {
  ns?: string;
  replicas?: number;
  containers?: string[];
  init?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  nodeSelector?: Record<string, unknown>;
  podSpec?: Record<string, unknown>;
} = {}) {
  return {
    metadata: { namespace: o.ns ?? 'shop', name: 'web' },
    spec: {
      ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
      template: {
        metadata: { ...(o.annotations ? { annotations: o.annotations } : {}), ...(o.labels ? { labels: o.labels } : {}) },
        spec: {
          containers: (o.containers ?? ['nginx:1.27']).map((image, n) => ({ name: `c${n}`, image })),
          ...(o.init ? { initContainers: o.init.map((image, n) => ({ name: `i${n}`, image })) } : {}),
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...o.podSpec,
        },
      },
    },
  };
}

t.test('containers and init containers, normalized, pulled from the mirror', async (t) => {
  const e = workloadImages('Deployment', workload({ containers: ['nginx:1.27', 'ghcr.io/acme/api:2'], init: ['busybox'] }), config);
  t.same(e, {
    images: [
      { ref: 'docker.io/library/busybox:latest', pull: `${M}/docker.io/library/busybox:latest` },
      { ref: 'docker.io/library/nginx:1.27', pull: `${M}/docker.io/library/nginx:1.27` },
      { ref: 'ghcr.io/acme/api:2', pull: `${M}/ghcr.io/acme/api:2` },
    ],
    nodeSelector: {},
  });
});

t.test('the same image twice is one entry; the nodeSelector keeps only strings', async (t) => {
  const e = workloadImages('DaemonSet', workload({ containers: ['nginx:1.27', 'docker.io/library/nginx:1.27'], nodeSelector: { pool: 'gpu', bad: 3 } }), config);
  t.same(e, { images: [{ ref: 'docker.io/library/nginx:1.27', pull: `${M}/docker.io/library/nginx:1.27` }], nodeSelector: { pool: 'gpu' } });
});

t.test('scaled to zero needs nothing (Deployments and StatefulSets); a DaemonSet has no replicas', async (t) => {
  for (const kind of ['Deployment', 'StatefulSet'] as WorkloadKind[]) {
    t.equal(workloadImages(kind, workload({ replicas: 0 }), config), null, `${kind} at 0`);
    t.ok(workloadImages(kind, workload({ replicas: 2 }), config), `${kind} at 2`);
    t.ok(workloadImages(kind, workload(), config), `${kind} without replicas (defaults to 1)`);
  }
  t.ok(workloadImages('DaemonSet', workload({ replicas: 0 }), config), 'a DaemonSet ignores a stray replicas field');
});

t.test('a namespace whose rewrite mode is off pulls its own ref; enforce cannot be skipped', async (t) => {
  // kube-system is off by default
  t.same(workloadImages('DaemonSet', workload({ ns: 'kube-system', containers: ['registry.k8s.io/kube-proxy:v1.32.0'] }), config)?.images, [
    { ref: 'registry.k8s.io/kube-proxy:v1.32.0', pull: 'registry.k8s.io/kube-proxy:v1.32.0' },
  ]);
  const c = cfg({ rewrite: { mode: 'mirrored', namespaces: { strict: 'enforce', lab: 'off' } } });
  t.same(workloadImages('Deployment', workload({ ns: 'lab' }), c)?.images, [{ ref: 'docker.io/library/nginx:1.27', pull: 'docker.io/library/nginx:1.27' }]);
  const skip = { annotations: { 'ferry.io/skip': 'true' } };
  t.same(workloadImages('Deployment', workload({ ns: 'shop', ...skip }), c)?.images[0]?.pull, 'docker.io/library/nginx:1.27', 'ferry.io/skip on the template');
  t.same(workloadImages('Deployment', workload({ ns: 'shop', labels: { 'ferry.io/skip': 'yes' } }), c)?.images[0]?.pull, 'docker.io/library/nginx:1.27', 'ferry.io/skip as a label');
  t.same(workloadImages('Deployment', workload({ ns: 'shop', annotations: { 'ferry.io/mode': 'off' } }), c)?.images[0]?.pull, 'docker.io/library/nginx:1.27', 'ferry.io/mode: off');
  t.same(workloadImages('Deployment', workload({ ns: 'strict', ...skip }), c)?.images[0]?.pull, `${M}/docker.io/library/nginx:1.27`, 'enforce is not weakened by skip');
});

t.test('images rewrite.exclude leaves alone are pulled upstream; blocked images not at all', async (t) => {
  const c = cfg({ rewrite: { exclude: ['docker.io/library/busybox*'] }, block: [{ pattern: 'docker.io/library/bad*', reason: 'CVE' }] });
  t.same(workloadImages('Deployment', workload({ containers: ['nginx:1.27', 'busybox:1', 'bad:1'] }), c)?.images, [
    { ref: 'docker.io/library/busybox:1', pull: 'docker.io/library/busybox:1' },
    { ref: 'docker.io/library/nginx:1.27', pull: `${M}/docker.io/library/nginx:1.27` },
  ]);
  t.equal(workloadImages('Deployment', workload({ containers: ['bad:1'] }), c), null, 'nothing left to pull');
});

t.test('a template the webhook rewrote maps back to the upstream ref and pulls the mirror image', async (t) => {
  const mirror = `${M}/docker.io/library/nginx:1.27`;
  t.same(workloadImages('Deployment', workload({ containers: [mirror] }), config)?.images, [{ ref: 'docker.io/library/nginx:1.27', pull: mirror }], 'by the mirror path');
  // the original-images annotation keeps the author's reference, before digest pinning
  const pinned = `${M}/docker.io/library/nginx:1.27@sha256:${'a'.repeat(64)}`;
  const annotations = { [ANNOTATION_ORIGINAL_IMAGES]: JSON.stringify({ c0: 'nginx:1.27' }) };
  t.same(workloadImages('Deployment', workload({ containers: [pinned], annotations }), config)?.images, [{ ref: 'docker.io/library/nginx:1.27', pull: pinned }]);
  // in an off namespace too: the pods pull the mirror image they name
  t.same(workloadImages('Deployment', workload({ ns: 'kube-system', containers: [mirror] }), config)?.images[0]?.pull, mirror);
  // in the mirror registry but outside ferry's layout: pulled as named, under the ref the in-use index gives it
  const byHand = `${M}/team/tool:1`;
  const inUse = podImages({ metadata: { namespace: 'shop', name: 'p' }, spec: { containers: [{ name: 'c0', image: byHand }] } }, config.mirror);
  t.same(workloadImages('Deployment', workload({ containers: [byHand] }), config)?.images, [{ ref: inUse[0]!.ref, pull: byHand }]);
});

t.test('malformed objects and images give nothing, never a throw', async (t) => {
  const bad: unknown[] = [null, undefined, {}, { metadata: { name: 'x' } }, { metadata: { namespace: 'a', name: 'x' }, spec: { template: 'no' } }, { metadata: { namespace: 'a', name: 'x' }, spec: {} }];
  for (const o of bad) t.equal(workloadImages('Deployment', o as never, config), null);
  t.equal(workloadImages('Deployment', workload({ containers: ['Not A Ref!!'] }), config), null, 'an invalid reference is skipped');
  const mixed = workload();
  (mixed.spec.template.spec.containers as unknown[]).push({ name: 'x', image: 42 }, 'junk', null);
  t.equal(workloadImages('Deployment', mixed, config)?.images.length, 1);
});

t.test('image volumes count; ephemeral containers do not', async (t) => {
  const o = workload();
  Object.assign(o.spec.template.spec, {
    volumes: [{ name: 'data', image: { reference: 'ghcr.io/acme/models:1' } }],
    ephemeralContainers: [{ name: 'debug', image: 'busybox:1' }],
  });
  t.same(workloadImages('Deployment', o, config)?.images.map((i) => i.ref), ['docker.io/library/nginx:1.27', 'ghcr.io/acme/models:1']);
});

t.test('selectorMatches and imagesForNode', async (t) => {
  t.ok(selectorMatches({}, {}), 'an empty selector matches every node');
  t.ok(selectorMatches({ pool: 'gpu' }, { pool: 'gpu', zone: 'a' }));
  t.notOk(selectorMatches({ pool: 'gpu' }, { pool: 'cpu' }));
  t.notOk(selectorMatches({ pool: 'gpu', zone: 'a' }, { pool: 'gpu' }), 'every key must hold');
  const uses: WorkloadImageUse[] = [
    { ref: 'a', pull: 'a', workloads: ['x/Deployment/a'], placements: [{ nodeSelector: { pool: 'gpu' } }] },
    { ref: 'b', pull: 'b', workloads: ['x/Deployment/b', 'x/DaemonSet/c'], placements: [{ nodeSelector: { pool: 'gpu' } }, { nodeSelector: {} }] },
    { ref: 'c', pull: 'c', workloads: ['x/Deployment/d'], placements: [{ nodeSelector: { pool: 'cpu' } }] },
  ];
  t.same(imagesForNode(uses, { labels: { pool: 'cpu' } }).map((u) => u.ref), ['b', 'c']);
  t.same(imagesForNode(uses, { labels: { pool: 'gpu' } }).map((u) => u.ref), ['a', 'b']);
});

t.test('the required node affinity and the tolerations are kept; preferred affinity and junk are not', async (t) => {
  const e = workloadImages(
    'Deployment',
    workload({
      podSpec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'In', values: ['a100', 7] }, { operator: 'Exists' }], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
          },
          podAntiAffinity: {},
        },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, 'junk', { key: 'dedicated', value: 'ml', effect: '' }],
      },
    }),
    config,
  );
  t.same(e?.affinity, [{ matchExpressions: [{ key: 'gpu', operator: 'In', values: ['a100'] }], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }]);
  t.same(e?.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, { key: 'dedicated', value: 'ml' }]);
  const plain = workloadImages('Deployment', workload({ podSpec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } }, tolerations: [] } }), config);
  t.notOk(plain && 'affinity' in plain, 'no required terms: no affinity kept');
  t.notOk(plain && 'tolerations' in plain, 'no tolerations: none kept');
});
