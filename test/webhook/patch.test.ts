import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import type { ImageDecision, PodDecision } from '../../src/policy/index.js';
import type { Pod } from '../../src/webhook/admission.js';
import { buildPatch } from '../../src/webhook/patch.js';
import { review, reviewJson, type AdmissionResponse } from '../../src/webhook/admission.js';

const decision = (images: ImageDecision[], originalImages: Record<string, string> = {}): PodDecision => ({
  mode: 'always',
  skipped: false,
  images,
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
        { use: c('containers', 0, 'app', 'nginx:1'), image: 'm:5000/docker.io/library/nginx:1', pullPolicy: 'IfNotPresent' },
        { use: c('containers', 1, 'side', 'busybox'), pullPolicy: 'IfNotPresent' },
        { use: c('containers', 2, 'same', 'redis:7') },
        { use: c('initContainers', 0, 'init', 'alpine:3'), image: 'm:5000/docker.io/library/alpine:3' },
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
  t.same(buildPatch(pod, decision([{ use: { list: 'containers', index: 2, name: 'a', image: 'a:1' } }]), { annotate: true }), []);
  const ops = buildPatch(pod, decision([{ use: { list: 'containers', index: 2, name: 'a', image: 'a:1' }, image: 'm/a:1' }]), { annotate: false });
  t.same(ops, [{ op: 'replace', path: '/spec/containers/2/image', value: 'm/a:1' }]);
});

t.test('image volumes: reference and pullPolicy inside `image`, nothing else of the volume', async (t) => {
  const pod = {
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'app', image: 'm:5000/x/app:1' }],
      volumes: [
        { name: 'cfg', configMap: { name: 'c' } },
        { name: 'weights', image: { reference: 'ghcr.io/acme/weights:7', pullPolicy: 'Always' } },
        { name: 'data', image: { reference: 'busybox:1' } },
      ],
    },
  } as unknown as Pod;
  const v = (index: number, name: string, image: string) => ({ list: 'volumes' as const, index, name, image });
  const ops = buildPatch(
    pod,
    decision(
      [
        { use: v(1, 'weights', 'ghcr.io/acme/weights:7'), image: 'm:5000/ghcr.io/acme/weights:7', pullPolicy: 'IfNotPresent' },
        { use: v(2, 'data', 'busybox:1'), pullPolicy: 'IfNotPresent' },
      ],
      { 'volume/weights': 'ghcr.io/acme/weights:7' },
    ),
    { annotate: true },
  );
  t.same(
    ops.filter((o) => o.path.startsWith('/spec')).sort((a, b) => a.path.localeCompare(b.path)),
    [
      { op: 'replace', path: '/spec/volumes/1/image/pullPolicy', value: 'IfNotPresent' },
      { op: 'replace', path: '/spec/volumes/1/image/reference', value: 'm:5000/ghcr.io/acme/weights:7' },
      { op: 'add', path: '/spec/volumes/2/image/pullPolicy', value: 'IfNotPresent' },
    ],
  );
  const after = fastJsonPatch.applyPatch(structuredClone(pod), ops).newDocument as any;
  t.same(after.spec.volumes[0], { name: 'cfg', configMap: { name: 'c' } });
  t.same(JSON.parse(after.metadata.annotations['ferry.io/original-images']), { 'volume/weights': 'ghcr.io/acme/weights:7' });
});

t.test('a later rewrite of the same image records its new original; other entries stay', async (t) => {
  const pod = {
    metadata: { annotations: { 'ferry.io/original-images': JSON.stringify({ app: 'nginx:1', side: 'redis:7' }) } },
    spec: { containers: [{ name: 'app', image: 'nginx:2' }] },
  } as unknown as Pod;
  const ops = buildPatch(pod, decision([{ use: { list: 'containers', index: 0, name: 'app', image: 'nginx:2' }, image: 'm/nginx:2' }], { app: 'nginx:2' }), { annotate: true });
  const after = fastJsonPatch.applyPatch(structuredClone(pod), ops).newDocument as any;
  t.same(JSON.parse(after.metadata.annotations['ferry.io/original-images']), { app: 'nginx:2', side: 'redis:7' });
});

t.test('the answer on the wire: reviewJson is review() as JSON, the base64 patch placed as it is', async (t) => {
  const patch = Buffer.from(JSON.stringify([{ op: 'replace', path: '/spec/containers/0/image', value: 'm/a:1' }])).toString('base64');
  const answers: AdmissionResponse[] = [
    { uid: 'u1', allowed: true },
    { uid: 'u2', allowed: true, patchType: 'JSONPatch', patch, warnings: ['ferry: "quoted" \\ back\nslash', 'ünïcode ☃'] },
    { uid: 'u"3', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'ferry denied this pod: "x" is blocked\n(CVE)' } },
    { uid: '', allowed: true, patchType: 'JSONPatch', patch: '' },
    { patch } as unknown as AdmissionResponse,
  ];
  for (const a of answers) {
    const text = reviewJson(a);
    t.same(JSON.parse(text), review(a), `answer ${a.uid}`);
    t.equal(text.length, JSON.stringify(review(a)).length, `answer ${a.uid}: as long as JSON.stringify's`);
  }
});
