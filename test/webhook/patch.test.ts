import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import type { ContainerDecision, PodDecision } from '../../src/policy/index.js';
import type { Pod } from '../../src/webhook/admission.js';
import { buildPatch } from '../../src/webhook/patch.js';

const decision = (containers: ContainerDecision[], originalImages: Record<string, string> = {}): PodDecision => ({
  mode: 'always',
  skipped: false,
  containers,
  denials: [],
  warnings: [],
  enqueue: [],
  originalImages,
});

t.test('ops touch only image and imagePullPolicy: replace what is there, add what is absent, never the rest', async (t) => {
  const pod = {
    metadata: { name: 'p', annotations: { team: 'a' } },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1', imagePullPolicy: 'Always', env: [{ name: 'X', value: '1' }], resources: { limits: { cpu: '1' } } },
        { name: 'side', image: 'busybox', ports: [{ containerPort: 80 }] },
        { name: 'same', image: 'redis:7' },
      ],
      initContainers: [{ name: 'init', image: 'alpine:3', command: ['sh'] }],
    },
  } as unknown as Pod;
  const original = structuredClone(pod);
  const c = (list: 'containers' | 'initContainers', index: number, name: string, image: string) => ({ list, index, name, image });
  const ops = buildPatch(
    pod,
    decision(
      [
        { container: c('containers', 0, 'app', 'nginx:1'), image: 'm:5000/docker.io/library/nginx:1', pullPolicy: 'IfNotPresent' },
        { container: c('containers', 1, 'side', 'busybox'), pullPolicy: 'IfNotPresent' },
        { container: c('containers', 2, 'same', 'redis:7') },
        { container: c('initContainers', 0, 'init', 'alpine:3'), image: 'm:5000/docker.io/library/alpine:3' },
      ],
      { app: 'nginx:1', init: 'alpine:3' },
    ),
    { annotate: true },
  );
  t.same(
    ops.filter((o) => o.path.startsWith('/spec')).sort((a, b) => a.path.localeCompare(b.path)),
    [
      { op: 'replace', path: '/spec/containers/0/image', value: 'm:5000/docker.io/library/nginx:1' },
      { op: 'replace', path: '/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' },
      { op: 'add', path: '/spec/containers/1/imagePullPolicy', value: 'IfNotPresent' },
      { op: 'replace', path: '/spec/initContainers/0/image', value: 'm:5000/docker.io/library/alpine:3' },
    ],
  );
  t.same(ops.filter((o) => o.path.startsWith('/metadata')), [
    { op: 'add', path: '/metadata/annotations/ferry.io~1original-images', value: JSON.stringify({ app: 'nginx:1', init: 'alpine:3' }) },
  ]);
  const patched = fastJsonPatch.applyPatch(structuredClone(pod), ops).newDocument as any;
  t.same(patched.spec.containers[0].env, original.spec!.containers![0]!.env, 'env untouched');
  t.same(patched.spec.containers[0].resources, (original.spec!.containers![0] as any).resources, 'resources untouched');
  t.same(patched.spec.containers[2], original.spec!.containers![2], 'unchanged container untouched');
  t.same(pod, original, 'the admitted pod object is not mutated');
});

t.test('no change: no ops; junk list items are skipped, not thrown on', async (t) => {
  const pod = { spec: { containers: [null, 'x', { name: 'a', image: 'a:1' }] } } as unknown as Pod;
  t.same(buildPatch(pod, decision([{ container: { list: 'containers', index: 2, name: 'a', image: 'a:1' } }]), { annotate: true }), []);
  const ops = buildPatch(pod, decision([{ container: { list: 'containers', index: 2, name: 'a', image: 'a:1' }, image: 'm/a:1' }]), { annotate: false });
  t.same(ops, [{ op: 'replace', path: '/spec/containers/2/image', value: 'm/a:1' }]);
});
