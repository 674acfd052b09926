/** The pure parts of the containerd importer: platform matching, gc labels, socket targets, chain IDs. */
import t from 'tap';
import { chainIds } from '../../src/containerd/chain-id.js';
import { contentRefLabels, missingLabels } from '../../src/containerd/gc-labels.js';
import { hostPlatform, parsePlatform, platformMatches } from '../../src/containerd/platform.js';
import { containerdTarget } from '../../src/containerd/socket-target.js';
import { CONTAINERD_ERROR_CODES } from '../../src/containerd/index.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

t.test('platforms', async (t) => {
  t.match(hostPlatform(), /^linux\/[a-z0-9]+$/);
  t.same(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.same(parsePlatform('Linux/AMD64'), { os: 'linux', architecture: 'amd64' });
  t.equal(parsePlatform('amd64'), undefined);
  t.equal(parsePlatform('linux/amd64/v1/x'), undefined);
  const arm64 = parsePlatform('linux/arm64')!;
  t.ok(platformMatches(arm64, { os: 'linux', architecture: 'arm64' }));
  t.ok(platformMatches(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }), 'arm64 = arm64/v8');
  t.notOk(platformMatches(parsePlatform('linux/arm/v6')!, { os: 'linux', architecture: 'arm' }), 'arm without variant is v7');
  t.notOk(platformMatches(parsePlatform('linux/amd64')!, { os: 'windows', architecture: 'amd64' }));
  t.notOk(platformMatches(parsePlatform('linux/amd64')!, undefined));
});

t.test('gc labels', async (t) => {
  t.same(contentRefLabels({ config: { digest: D('c') }, layers: [{ digest: D('a') }, { digest: D('b') }] }), {
    'containerd.io/gc.ref.content.config': D('c'),
    'containerd.io/gc.ref.content.l.0': D('a'),
    'containerd.io/gc.ref.content.l.1': D('b'),
  });
  t.same(contentRefLabels({ manifests: [{ digest: D('1') }, { digest: D('2') }] }), {
    'containerd.io/gc.ref.content.m.0': D('1'),
    'containerd.io/gc.ref.content.m.1': D('2'),
  });
  t.same(contentRefLabels('nope'), {});
  t.same(missingLabels({ a: '1', b: '2' }, { a: '1', b: '3', c: '4' }), { b: '3', c: '4' });
  t.same(missingLabels(undefined, { a: '1' }), { a: '1' });
});

t.test('socket targets', async (t) => {
  t.same(containerdTarget('/run/containerd/containerd.sock'), { target: 'unix:///run/containerd/containerd.sock', path: '/run/containerd/containerd.sock' });
  t.same(containerdTarget('unix:///run/k3s/containerd/containerd.sock'), { target: 'unix:///run/k3s/containerd/containerd.sock', path: '/run/k3s/containerd/containerd.sock' });
  t.match(containerdTarget('tcp://1.2.3.4:5'), { code: CONTAINERD_ERROR_CODES.UNREACHABLE, transient: false });
  t.match(containerdTarget(''), { code: CONTAINERD_ERROR_CODES.UNREACHABLE });
});

t.test('chain IDs', async (t) => {
  t.same(chainIds([]), []);
  t.same(chainIds([D('a')]), [D('a')], 'the first layer is its own chain');
  const two = chainIds([D('a'), D('b')]);
  t.equal(two[0], D('a'));
  // sha256("sha256:aaa… sha256:bbb…"), computed with `printf '%s %s' … | sha256sum`
  t.equal(two[1], 'sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c');
  t.not(chainIds([D('b'), D('a')])[1], two[1], 'order matters');
});
