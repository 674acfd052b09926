import t from 'tap';
import { digestOfImageId, podImages } from '../../src/in-use/pod-images.js';

const MIRROR = { registry: 'mirror.local:5000', prefix: 'cache' };
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function pod(spec: object, extra: { annotations?: Record<string, string>; status?: object } = {}) {
  return { metadata: { namespace: 'shop', name: 'web-1', ...(extra.annotations ? { annotations: extra.annotations } : {}) }, spec, status: extra.status };
}

t.test('every list: containers, init, ephemeral, image volumes (container key volume/<name>)', async (t) => {
  const images = podImages(
    pod({
      nodeName: 'node-a',
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      initContainers: [{ name: 'init', image: 'busybox' }],
      ephemeralContainers: [{ name: 'debug', image: 'ghcr.io/org/tools:v1' }],
      volumes: [{ name: 'models', image: { reference: 'quay.io/org/models:2024' } }, { name: 'data', emptyDir: {} }],
    }),
    MIRROR,
  );
  t.same(
    images.map((i) => [i.list, i.container, i.ref, i.node, i.digest, i.rewritten]),
    [
      ['containers', 'app', 'docker.io/library/nginx:1.27', 'node-a', null, false],
      ['initContainers', 'init', 'docker.io/library/busybox:latest', 'node-a', null, false],
      ['ephemeralContainers', 'debug', 'ghcr.io/org/tools:v1', 'node-a', null, false],
      ['volumes', 'volume/models', 'quay.io/org/models:2024', 'node-a', null, false],
    ],
  );
  t.same(images[0], { namespace: 'shop', pod: 'web-1', container: 'app', list: 'containers', node: 'node-a', image: 'nginx:1.27', ref: 'docker.io/library/nginx:1.27', digest: null, rewritten: false });
});

t.test('digest: from the status imageID by container name, else the spec digest, else null', async (t) => {
  const images = podImages(
    pod(
      {
        containers: [
          { name: 'a', image: 'nginx:1.27' },
          { name: 'b', image: `redis@${D2}` },
          { name: 'c', image: 'redis:7' },
          { name: 'd', image: 'alpine:3' },
        ],
        initContainers: [{ name: 'i', image: 'busybox' }],
      },
      {
        status: {
          containerStatuses: [
            { name: 'a', image: 'docker.io/library/nginx:1.27', imageID: `docker-pullable://nginx@${D1}` },
            { name: 'b', image: 'sha256:abcd', imageID: `sha256:${'f'.repeat(64)}` },
            { name: 'c', image: 'docker.io/library/redis:7', imageID: `sha256:${'f'.repeat(64)}` },
            { name: 'd', imageID: '' },
          ],
          initContainerStatuses: [{ name: 'i', image: 'docker.io/library/busybox:latest', imageID: `docker.io/library/busybox@${D2}` }],
        },
      },
    ),
    MIRROR,
  );
  t.same(Object.fromEntries(images.map((i) => [i.container, i.digest])), { a: D1, b: D2, c: null, d: null, i: D2 }, 'a bare sha256: imageID is the image ID, not a manifest digest');
});

t.test('a status left from before an in-place image update is not this image', async (t) => {
  const [img] = podImages(
    pod({ containers: [{ name: 'a', image: 'nginx:1.28' }] }, { status: { containerStatuses: [{ name: 'a', image: 'docker.io/library/nginx:1.27', imageID: `nginx@${D1}` }] } }),
    MIRROR,
  );
  t.equal(img?.digest, null);
});

t.test('rewritten pods map back to the upstream ref: annotation first, else the mirror path', async (t) => {
  const images = podImages(
    pod(
      {
        containers: [
          { name: 'app', image: `mirror.local:5000/cache/docker.io/library/nginx:1.27@${D1}` },
          { name: 'side', image: 'mirror.local:5000/cache/ghcr.io/org/side:v2' },
          { name: 'edited', image: 'mirror.local:5000/cache/docker.io/library/redis:7' },
          { name: 'own', image: 'mirror.local:5000/team/pushed-by-hand:1' },
        ],
        volumes: [{ name: 'models', image: { reference: 'mirror.local:5000/cache/quay.io/org/models:1' } }],
      },
      {
        annotations: {
          'ferry.io/original-images': JSON.stringify({ app: 'nginx:1.27', edited: 'alpine:3', 'volume/models': 'quay.io/org/models:1' }),
        },
      },
    ),
    MIRROR,
  );
  t.same(
    images.map((i) => [i.container, i.ref, i.rewritten, i.digest]),
    [
      ['app', 'docker.io/library/nginx:1.27', true, D1],
      ['side', 'ghcr.io/org/side:v2', false, null],
      ['edited', 'docker.io/library/redis:7', false, null],
      ['own', 'mirror.local:5000/team/pushed-by-hand:1', false, null],
      ['volume/models', 'quay.io/org/models:1', true, null],
    ],
    'pinned digest kept as the digest, not the ref; an annotation naming another repository is stale',
  );
  t.equal(images[0]?.image, `mirror.local:5000/cache/docker.io/library/nginx:1.27@${D1}`, 'image is the spec string');
});

t.test('an image moved by hand to another tag of the same repository is not the annotated one', async (t) => {
  const images = podImages(
    pod(
      {
        containers: [
          { name: 'retagged', image: 'mirror.local:5000/cache/docker.io/library/nginx:1.28' },
          { name: 'latest', image: `mirror.local:5000/cache/docker.io/library/redis:latest@${D1}` },
          { name: 'pinned', image: `mirror.local:5000/cache/docker.io/library/alpine@${D2}` },
        ],
      },
      { annotations: { 'ferry.io/original-images': JSON.stringify({ retagged: 'nginx:1.27', latest: 'redis', pinned: `alpine@${D1}` }) } },
    ),
    MIRROR,
  );
  t.same(
    images.map((i) => [i.container, i.ref, i.rewritten]),
    [
      ['retagged', 'docker.io/library/nginx:1.28', false],
      ['latest', 'docker.io/library/redis:latest', true],
      ['pinned', `docker.io/library/alpine@${D1}`, true],
    ],
    'the tag ferry wrote is the original one (an implied latest too); a digest-only original names no tag',
  );
});

t.test('an annotation on an image not in the mirror is ignored (not rewritten)', async (t) => {
  const [img] = podImages(pod({ containers: [{ name: 'app', image: 'nginx:1.28' }] }, { annotations: { 'ferry.io/original-images': '{"app":"nginx:1.27"}' } }), MIRROR);
  t.same([img?.ref, img?.rewritten], ['docker.io/library/nginx:1.28', false]);
});

t.test('malformed pods and entries are skipped, never thrown on', async (t) => {
  const bad: unknown[] = [
    null,
    undefined,
    {},
    { metadata: { name: 'x' }, spec: {} },
    { metadata: { namespace: 'n', name: 'x' } },
    { metadata: { namespace: 'n', name: 'x' }, spec: 'nope' },
    { metadata: { namespace: 'n', name: 'x' }, spec: { containers: 'nope', volumes: [null, 1, { name: 'v', image: 5 }] } },
  ];
  for (const p of bad) t.same(podImages(p as never, MIRROR), []);
  const images = podImages(
    {
      metadata: { namespace: 'n', name: 'x', annotations: { 'ferry.io/original-images': '{not json' } },
      spec: {
        nodeName: 42,
        containers: [null, { name: 'noimage' }, { image: 'noname' }, { name: 'bad', image: 'UPPER/Case:!!' }, { name: 'ok', image: 'nginx' }],
        initContainers: [{ name: 'i', image: 'mirror.local:5000/cache/docker.io/library/busybox:1' }],
      },
      status: { containerStatuses: 'nope', initContainerStatuses: [null, { name: 'i', imageID: 42 }] },
    },
    MIRROR,
  );
  t.same(images.map((i) => [i.container, i.ref, i.node, i.digest]), [
    ['ok', 'docker.io/library/nginx:latest', null, null],
    ['i', 'docker.io/library/busybox:1', null, null],
  ]);
  t.same(podImages(pod({ containers: [{ name: 'a', image: 'nginx' }] }), { registry: 'not a host!', prefix: '' })[0]?.ref, 'docker.io/library/nginx:latest', 'an unusable mirror config maps nothing back');
});

t.test('digestOfImageId', async (t) => {
  t.equal(digestOfImageId(`docker-pullable://docker.io/library/nginx@${D1}`), D1);
  t.equal(digestOfImageId(`localhost:5000/app@${D1}`), D1);
  t.equal(digestOfImageId(D1), null);
  t.equal(digestOfImageId('docker://sha256:abc'), null);
  t.equal(digestOfImageId('repo@not a digest'), null);
  t.equal(digestOfImageId(undefined), null);
});
