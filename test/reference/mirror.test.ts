import t from 'tap';
import { FerryError } from '../../src/errors.js';
import {
  REFERENCE_ERROR_CODES as C,
  decodeHost,
  encodeHost,
  formatReference,
  fromMirrorImageReference,
  fromMirrorReference,
  isMirrorReference,
  parseReference,
  toMirrorImageReference,
  toMirrorReference,
  tryParseReference,
  tryToMirrorReference,
  type MirrorOptions,
} from '../../src/reference/index.js';

const H = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const D = `sha256:${H}`;
const M: MirrorOptions = { registry: 'mirror.local:5000', prefix: '' };
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** [upstream, mirror registry, prefix, expected mirror reference] */
const MAP: Array<[string, string, string, string]> = [
  // the common registries map to themselves
  ['docker.io/library/nginx:1.27', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/library/nginx:1.27'],
  ['nginx', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/library/nginx:latest'],
  ['nginx:1.27', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/library/nginx:1.27'],
  ['index.docker.io/library/nginx:1', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/library/nginx:1'],
  ['bitnami/redis:7.2', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/bitnami/redis:7.2'],
  ['ghcr.io/org/app:v1', 'mirror.local:5000', '', 'mirror.local:5000/ghcr.io/org/app:v1'],
  ['ghcr.io/org/team/app', 'mirror.local:5000', '', 'mirror.local:5000/ghcr.io/org/team/app:latest'],
  ['quay.io/prometheus/prometheus:v2.53.0', 'mirror.local:5000', '', 'mirror.local:5000/quay.io/prometheus/prometheus:v2.53.0'],
  ['registry.k8s.io/pause:3.9', 'mirror.local:5000', '', 'mirror.local:5000/registry.k8s.io/pause:3.9'],
  ['registry.k8s.io/kube-apiserver:v1.30.2', 'mirror.local:5000', '', 'mirror.local:5000/registry.k8s.io/kube-apiserver:v1.30.2'],
  ['gcr.io/distroless/static:nonroot', 'mirror.local:5000', '', 'mirror.local:5000/gcr.io/distroless/static:nonroot'],
  ['public.ecr.aws/nginx/nginx:stable', 'mirror.local:5000', '', 'mirror.local:5000/public.ecr.aws/nginx/nginx:stable'],
  ['xn--n3h.com/myimage', 'mirror.local:5000', '', 'mirror.local:5000/xn--n3h.com/myimage:latest'],
  ['my--registry.local/app', 'mirror.local:5000', '', 'mirror.local:5000/my--registry.local/app:latest'],
  ['a-b-c.d--e.f/app', 'mirror.local:5000', '', 'mirror.local:5000/a-b-c.d--e.f/app:latest'],
  ['10.0.0.1/app', 'mirror.local:5000', '', 'mirror.local:5000/10.0.0.1/app:latest'],
  ['localhost/app', 'mirror.local:5000', '', 'mirror.local:5000/localhost/app:latest'],
  // tag and digest kept; digest-only gets no latest
  [`nginx@${D}`, 'mirror.local:5000', '', `mirror.local:5000/docker.io/library/nginx@${D}`],
  [`nginx:1.27@${D}`, 'mirror.local:5000', '', `mirror.local:5000/docker.io/library/nginx:1.27@${D}`],
  [`ghcr.io/org/app:Tag_1.x@${D}`, 'mirror.local:5000', '', `mirror.local:5000/ghcr.io/org/app:Tag_1.x@${D}`],
  // ports
  ['localhost:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/localhost_5000/app:latest'],
  ['localhost:5000/team/app:dev', 'mirror.local:5000', '', 'mirror.local:5000/localhost_5000/team/app:dev'],
  ['127.0.0.1:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/127.0.0.1_5000/app:latest'],
  ['registry.example.com:443/app', 'mirror.local:5000', '', 'mirror.local:5000/registry.example.com_443/app:latest'],
  ['registry.example.com:0443/app', 'mirror.local:5000', '', 'mirror.local:5000/registry.example.com_0443/app:latest'],
  ['my-registry:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/my-registry_5000/app:latest'],
  // IPv6
  ['[::1]:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__z-z-1_5000/app:latest'],
  ['[::1]/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__z-z-1/app:latest'],
  ['[2001:db8::1]/repo', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__2001-db8-z-1/repo:latest'],
  ['[2001:db8::]:5000/repo', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__2001-db8-z-z_5000/repo:latest'],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__2001-db8-1-2-3-4-5-6/repo:tag'],
  ['[FE80::1]:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__fe80-z-1_5000/app:latest'],
  ['[::]/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__z-z-z/app:latest'],
  ['[:]/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__z-z/app:latest'],
  ['[1]:5000/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6__1_5000/app:latest'],
  // uppercase hosts fold (DNS is case-insensitive); tags keep their case
  ['Registry.Example.COM/app', 'mirror.local:5000', '', 'mirror.local:5000/registry.example.com/app:latest'],
  ['REGISTRY.EXAMPLE.COM:5000/team/app:Tag', 'mirror.local:5000', '', 'mirror.local:5000/registry.example.com_5000/team/app:Tag'],
  ['FOO/bar', 'mirror.local:5000', '', 'mirror.local:5000/foo/bar:latest'],
  ['LOCALHOST/app', 'mirror.local:5000', '', 'mirror.local:5000/localhost/app:latest'],
  ['Docker.IO/nginx', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/nginx:latest'],
  ['INDEX.DOCKER.IO/library/nginx', 'mirror.local:5000', '', 'mirror.local:5000/index.docker.io/library/nginx:latest'],
  // hosts that look like the escaping itself
  ['ipv6.example.com/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6.example.com/app:latest'],
  ['ipv6:1/app', 'mirror.local:5000', '', 'mirror.local:5000/ipv6_1/app:latest'],
  ['z.z:1/app', 'mirror.local:5000', '', 'mirror.local:5000/z.z_1/app:latest'],
  // prefixes
  ['nginx:1.27', 'mirror.local:5000', 'cache', 'mirror.local:5000/cache/docker.io/library/nginx:1.27'],
  ['nginx:1.27', 'mirror.local:5000', 'team/cache', 'mirror.local:5000/team/cache/docker.io/library/nginx:1.27'],
  ['nginx:1.27', 'mirror.local:5000', '/cache/', 'mirror.local:5000/cache/docker.io/library/nginx:1.27'],
  ['ghcr.io/org/app', 'mirror.local:5000', 'a.b-c__d', 'mirror.local:5000/a.b-c__d/ghcr.io/org/app:latest'],
  ['localhost:5000/app', 'mirror.local:5000', 'cache', 'mirror.local:5000/cache/localhost_5000/app:latest'],
  // other mirror registries
  ['nginx', '127.0.0.1:5000', '', '127.0.0.1:5000/docker.io/library/nginx:latest'],
  ['nginx', 'localhost:5000', '', 'localhost:5000/docker.io/library/nginx:latest'],
  ['nginx', 'localhost', '', 'localhost/docker.io/library/nginx:latest'],
  ['nginx', '[::1]:5000', 'm', '[::1]:5000/m/docker.io/library/nginx:latest'],
  ['nginx', 'Mirror.Local:5000', '', 'Mirror.Local:5000/docker.io/library/nginx:latest'],
  ['nginx', 'mirror.example.com', '', 'mirror.example.com/docker.io/library/nginx:latest'],
  ['nginx', 'MIRROR', '', 'MIRROR/docker.io/library/nginx:latest'], // uppercase single label: Docker reads it as a host
  // the mirror registry as an upstream, outside the prefix
  ['mirror.local:5000/other/app', 'mirror.local:5000', 'cache', 'mirror.local:5000/cache/mirror.local_5000/other/app:latest'],
  // already in the mirror: left alone (normalized)
  ['mirror.local:5000/docker.io/library/nginx:1.27', 'mirror.local:5000', '', 'mirror.local:5000/docker.io/library/nginx:1.27'],
  ['mirror.local:5000/team/app', 'mirror.local:5000', '', 'mirror.local:5000/team/app:latest'],
  ['MIRROR.LOCAL:5000/x/y', 'mirror.local:5000', '', 'MIRROR.LOCAL:5000/x/y:latest'],
  ['mirror.local:5000/cache/x/y:1', 'mirror.local:5000', 'cache', 'mirror.local:5000/cache/x/y:1'],
];

t.test('upstream -> mirror table', async (t) => {
  for (const [upstream, registry, prefix, want] of MAP) {
    const opts = { registry, prefix };
    const got = toMirrorReference(upstream, opts);
    t.equal(got, want, `${upstream} (${registry} ${JSON.stringify(prefix)})`);
    t.equal(toMirrorReference(parseReference(upstream), opts), want, 'same from a parsed reference');
    t.equal(tryToMirrorReference(upstream, opts), want, 'same from tryToMirrorReference');
    // the result is a valid reference in the mirror registry, and in the mirror
    const back = parseReference(got);
    t.equal(back.domain, toMirrorImageReference(upstream, opts).domain);
    t.equal(back.domain.toLowerCase(), registry.toLowerCase(), `${got} has the mirror registry as domain`);
    t.ok(isMirrorReference(got, opts), `${got} is a mirror reference`);
    t.equal(toMirrorReference(got, opts), want, 'idempotent');
  }
});

t.test('mirror -> upstream table (fromMirrorReference)', async (t) => {
  const rows: Array<[string, MirrorOptions, string | undefined]> = [
    ['mirror.local:5000/docker.io/library/nginx:1.27', M, 'docker.io/library/nginx:1.27'],
    [`mirror.local:5000/docker.io/library/nginx@${D}`, M, `docker.io/library/nginx@${D}`],
    [`mirror.local:5000/docker.io/library/nginx:1@${D}`, M, `docker.io/library/nginx:1@${D}`],
    ['mirror.local:5000/docker.io/library/nginx', M, 'docker.io/library/nginx:latest'],
    ['MIRROR.local:5000/ghcr.io/org/app:v1', M, 'ghcr.io/org/app:v1'],
    ['mirror.local:5000/localhost_5000/app:dev', M, 'localhost:5000/app:dev'],
    ['mirror.local:5000/localhost/app', M, 'localhost/app:latest'],
    ['mirror.local:5000/ipv6__z-z-1_5000/app', M, '[::1]:5000/app:latest'],
    ['mirror.local:5000/ipv6__2001-db8-z-z/app', M, '[2001:db8::]/app:latest'],
    ['mirror.local:5000/ipv6__z-z/app', M, '[:]/app:latest'],
    ['mirror.local:5000/registry.example.com_443/a/b/c:1', M, 'registry.example.com:443/a/b/c:1'],
    ['mirror.local:5000/cache/docker.io/library/nginx:1', { registry: 'mirror.local:5000', prefix: 'cache' }, 'docker.io/library/nginx:1'],
    ['mirror.local:5000/a/b/quay.io/x/y:1', { registry: 'mirror.local:5000', prefix: 'a/b' }, 'quay.io/x/y:1'],
    // not under the mirror, or not a host component ferry writes
    ['mirror.local:5000/docker.io/library/nginx:1', { registry: 'mirror.local:5000', prefix: 'cache' }, undefined],
    ['mirror.local:5000/cachex/docker.io/library/nginx:1', { registry: 'mirror.local:5000', prefix: 'cache' }, undefined],
    ['mirror.local:5000/cache', { registry: 'mirror.local:5000', prefix: 'cache' }, undefined],
    ['mirror.local:5000/cache/nginx', { registry: 'mirror.local:5000', prefix: 'cache' }, undefined],
    ['other.local:5000/docker.io/library/nginx:1', M, undefined],
    ['mirror.local:5001/docker.io/library/nginx:1', M, undefined],
    ['mirror.local/docker.io/library/nginx:1', M, undefined],
    ['docker.io/library/nginx:1', M, undefined],
    ['nginx', M, undefined],
    ['mirror.local:5000/nginx', M, undefined],
    ['mirror.local:5000/a__b/app', M, undefined],
    ['mirror.local:5000/a_b_1/app', M, undefined],
    ['mirror.local:5000/a_b/app', M, undefined],
    ['mirror.local:5000/ipv6__g/app', M, undefined],
    ['mirror.local:5000/ipv6__1_2_3/app', M, undefined],
    ['mirror.local:5000/a.b_c.d/app', M, undefined],
    ['not a reference', M, undefined],
    ['', M, undefined],
  ];
  for (const [ref, opts, want] of rows) {
    t.equal(fromMirrorReference(ref, opts), want, `${ref} (${JSON.stringify(opts.prefix)})`);
  }
  t.strictSame(
    fromMirrorImageReference('mirror.local:5000/foo/bar', M),
    { domain: 'foo', path: 'bar', tag: undefined, digest: undefined },
    'structured form keeps a single-label host as the domain',
  );
});

t.test('isMirrorReference', async (t) => {
  const rows: Array<[string, MirrorOptions, boolean]> = [
    ['mirror.local:5000/docker.io/library/nginx:1', M, true],
    ['mirror.local:5000/anything/pushed/by/hand', M, true],
    ['Mirror.Local:5000/x/y', M, true],
    ['mirror.local:5000/x', M, true],
    ['mirror.local:5000/cache/x/y', { registry: 'mirror.local:5000', prefix: 'cache' }, true],
    ['mirror.local:5000/x/y', { registry: 'mirror.local:5000', prefix: 'cache' }, false],
    ['mirror.local:5000/cache', { registry: 'mirror.local:5000', prefix: 'cache' }, false],
    ['mirror.local:5000/cachex/y', { registry: 'mirror.local:5000', prefix: 'cache' }, false],
    ['mirror.local/x/y', M, false],
    ['mirror.local:50000/x/y', M, false],
    ['nginx', M, false],
    ['docker.io/library/nginx', M, false],
    ['127.0.0.1:5000/x', { registry: '127.0.0.1:5000' }, true],
    ['localhost:5000/x', { registry: '127.0.0.1:5000' }, false],
    ['[::1]:5000/x', { registry: '[::1]:5000' }, true],
    ['Invalid Ref', M, false],
  ];
  for (const [ref, opts, want] of rows) t.equal(isMirrorReference(ref, opts), want, `${ref} in ${opts.registry}/${opts.prefix ?? ''}`);
  t.ok(isMirrorReference(parseReference('mirror.local:5000/a/b'), M), 'accepts a parsed reference');
});

t.test('encodeHost / decodeHost table', async (t) => {
  const rows: Array<[string, string]> = [
    ['docker.io', 'docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['quay.io', 'quay.io'],
    ['registry.k8s.io', 'registry.k8s.io'],
    ['localhost', 'localhost'],
    ['localhost:5000', 'localhost_5000'],
    ['Registry.Example.COM', 'registry.example.com'],
    ['Registry.Example.COM:8443', 'registry.example.com_8443'],
    ['xn--n3h.com', 'xn--n3h.com'],
    ['a---b.c', 'a---b.c'],
    ['1.2.3.4', '1.2.3.4'],
    ['1.2.3.4:1', '1.2.3.4_1'],
    ['[::1]', 'ipv6__z-z-1'],
    ['[::1]:5000', 'ipv6__z-z-1_5000'],
    ['[::]', 'ipv6__z-z-z'],
    ['[:]', 'ipv6__z-z'],
    ['[::::]', 'ipv6__z-z-z-z-z'],
    ['[1::]', 'ipv6__1-z-z'],
    ['[0::1]', 'ipv6__0-z-1'],
    ['[0:0:0:0:0:0:0:1]', 'ipv6__0-0-0-0-0-0-0-1'],
    ['[ABCD:EF01::]:80', 'ipv6__abcd-ef01-z-z_80'],
    ['ipv6', 'ipv6'],
    ['ipv6:5000', 'ipv6_5000'],
    ['z', 'z'],
  ];
  for (const [host, component] of rows) {
    t.equal(encodeHost(host), component, `encode ${host}`);
    t.match(component, COMPONENT_RE, `${component} is a path component`);
    t.equal(decodeHost(component), host.toLowerCase(), `decode ${component}`);
  }
  for (const bad of ['', '_', 'a_', '_a', 'a__b', 'a_b_1', 'a_b', 'A', 'a.', '.a', '-a', 'a-', 'a..b', 'a_5000x', 'ipv6__', 'ipv6__-', 'ipv6__g', 'ipv6___1', 'ipv6__1_', 'ipv6__z--1', 'ipv6__1-_2', 'ipv6__1_2_3', 'ipv6__z-Z', 'a/b']) {
    t.equal(decodeHost(bad), undefined, `not an encoded host: ${JSON.stringify(bad)}`);
  }
  t.throws(() => encodeHost(''), { code: C.MIRROR_NO_HOST });
  t.throws(() => encodeHost('foo_bar.com'), { code: C.MIRROR_NO_HOST });
  t.throws(() => encodeHost('[fe80::1%eth0]'), { code: C.MIRROR_NO_HOST });
});

t.test('errors: no host, too long, bad config', async (t) => {
  // Docker parses these with an empty domain: nowhere to copy from
  for (const ref of ['foo_bar.com/x', 'a_b.c/d:tag', 'foo.bar_baz/x']) {
    t.throws(() => toMirrorReference(ref, M), { code: C.MIRROR_NO_HOST }, ref);
    const e = tryToMirrorReference(ref, M);
    t.ok(e instanceof FerryError && e.code === C.MIRROR_NO_HOST && e.status === 400 && e.hint, `try ${ref}`);
  }
  // 255 characters for the whole mirrored name: mirror.local:5000/docker.io/library/<n> is 36 + n
  t.equal(toMirrorReference(`library/${'a'.repeat(219)}`, M).length, 255 + ':latest'.length, 'exactly 255 fits');
  t.throws(() => toMirrorReference(`library/${'a'.repeat(220)}`, M), { code: C.MIRROR_TOO_LONG });
  const tooLong = tryToMirrorReference(`example.com/${'a'.repeat(255)}`, M);
  t.ok(tooLong instanceof FerryError && tooLong.code === C.MIRROR_TOO_LONG, 'valid upstream, too long mirrored');
  t.match((tooLong as FerryError).hint, /mirror\.prefix/);
  t.equal((tooLong as FerryError).details?.length, 17 + 1 + 12 + 255);
  t.throws(() => toMirrorReference(`library/${'a'.repeat(200)}`, { registry: 'mirror.local:5000', prefix: 'p'.repeat(20) }), {
    code: C.MIRROR_TOO_LONG,
  });
  // a parse error comes back as the parse error
  t.equal((tryToMirrorReference('Bad/Bad', M) as FerryError).code, C.UPPERCASE);
  t.throws(() => toMirrorReference('Bad/Bad', M), { code: C.UPPERCASE });

  const badRegistries = ['', 'mirror', 'index.docker.io', 'http://mirror.local', 'mirror.local/', 'mirror.local:5000/x', ' mirror.local', 'foo_bar.com', 'mirror.local:port', '[::1', 'mirror..local'];
  for (const registry of badRegistries) {
    t.throws(() => toMirrorReference('nginx', { registry }), { code: C.MIRROR_CONFIG }, `registry ${JSON.stringify(registry)}`);
    t.throws(() => isMirrorReference('nginx', { registry }), { code: C.MIRROR_CONFIG });
    t.throws(() => tryToMirrorReference('nginx', { registry }), { code: C.MIRROR_CONFIG }, 'config errors still throw');
  }
  for (const prefix of ['Cache', 'a//b', '-x', 'a b', '_x', 'x_', 'a:b', 'a@b']) {
    t.throws(() => toMirrorReference('nginx', { registry: 'mirror.local:5000', prefix }), { code: C.MIRROR_CONFIG }, `prefix ${JSON.stringify(prefix)}`);
  }
  const e = (() => {
    try {
      toMirrorReference('nginx', { registry: 'mirror' });
    } catch (err) {
      return err as FerryError;
    }
    return undefined;
  })();
  t.match(e?.hint, /localhost/, 'the config hint says what a registry looks like');
});

// ---- property tests: seeded PRNG, no dependencies

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function generators(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chars = (alphabet: string, min: number, max: number) => {
    let s = '';
    const n = min + int(max - min + 1);
    for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)];
    return s;
  };
  const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const label = () => {
    const r = rnd();
    if (r < 0.15) return pick(['ipv6', 'z', 'localhost', 'docker', 'io', 'xn--n3h', 'a', '0', 'IPV6', 'Z']);
    // alnum, then optionally "-"-runs and alnum: labels never start or end with "-"
    let s = chars(ALNUM, 1, 6);
    const parts = int(3);
    for (let i = 0; i < parts; i++) s += '-'.repeat(1 + int(3)) + chars(ALNUM, 1, 5);
    return s;
  };
  const port = () => (rnd() < 0.1 ? `0${chars('0123456789', 1, 4)}` : String(int(70000)));
  const ipv6 = () => {
    const r = rnd();
    if (r < 0.2) return `[${chars('0123456789abcdefABCDEF:', 1, 12)}]`; // anything the grammar allows
    const groups: string[] = [];
    const n = 1 + int(8);
    for (let i = 0; i < n; i++) groups.push(rnd() < 0.3 ? '' : chars('0123456789abcdefABCDEF', 1, 4));
    const s = groups.join(':');
    return `[${s === '' ? '::' : s}]`;
  };
  const host = (): string => {
    const r = rnd();
    let h: string;
    if (r < 0.1) h = pick(['docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io', 'gcr.io', 'localhost', 'Docker.IO', 'index.docker.io']);
    else if (r < 0.25) h = ipv6();
    else if (r < 0.35) h = `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
    else {
      const n = 1 + int(4);
      const labels: string[] = [];
      for (let i = 0; i < n; i++) labels.push(label());
      h = labels.join('.');
    }
    return rnd() < 0.35 ? `${h}:${port()}` : h;
  };
  const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const component = () => {
    if (rnd() < 0.1) return pick(['library', 'ipv6__z-z-1_5000', 'localhost_5000', 'docker.io', 'a', 'z']);
    if (rnd() < 0.01) return chars(LOWER, 150, 250); // near the 255 limits
    let s = chars(LOWER, 1, 6);
    const parts = int(3);
    for (let i = 0; i < parts; i++) s += pick(['.', '_', '__', '-', '--', '---']) + chars(LOWER, 1, 5);
    return s;
  };
  const path = () => {
    const n = 1 + int(4);
    const cs: string[] = [];
    for (let i = 0; i < n; i++) cs.push(component());
    return cs.join('/');
  };
  const suffix = () => {
    let s = '';
    if (rnd() < 0.5) s += `:${pick(['latest', '1.27', 'v1.2.3-rc.1', 'Tag_X', chars(`${ALNUM}_`, 1, 20)])}`;
    if (rnd() < 0.3) s += `@sha256:${chars('0123456789abcdef', 64, 64)}`;
    return s;
  };
  return { rnd, host, path, suffix };
}

t.test('property: encodeHost is a reversible, injective map onto path components', async (t) => {
  const g = generators(0xfe44);
  const seen = new Map<string, string>();
  let n = 0;
  let failures = 0;
  for (let i = 0; i < 20_000; i++) {
    const h = g.host();
    const lower = h.toLowerCase();
    if (!/^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[a-f0-9:]+\])(?::[0-9]+)?$/.test(lower)) {
      t.fail(`generator made an invalid host ${h}`);
      continue;
    }
    n++;
    const c = encodeHost(h);
    const prev = seen.get(c);
    if (!COMPONENT_RE.test(c) || decodeHost(c) !== lower || (prev !== undefined && prev !== lower)) {
      failures++;
      t.fail(`${h} -> ${c} -> ${String(decodeHost(c))} (also from ${String(prev)})`);
    }
    seen.set(c, lower);
  }
  t.equal(failures, 0, `${n} hosts, ${seen.size} distinct components, no collisions`);
  t.ok(seen.size > 10_000, 'the generator is diverse');
});

t.test('property: upstream -> mirror -> upstream round-trips, and no two upstreams meet', async (t) => {
  const configs: MirrorOptions[] = [
    { registry: 'mirror.local:5000', prefix: '' },
    { registry: 'localhost:5000', prefix: 'cache' },
    { registry: '[::1]:5000', prefix: 'a/b-c' },
    { registry: 'Mirror.Example.COM', prefix: 'x' },
  ];
  const g = generators(20240611);
  let checked = 0;
  let tooLong = 0;
  let noHost = 0;
  let failures = 0;
  const fail = (msg: string) => {
    failures++;
    if (failures < 20) t.fail(msg);
  };
  for (const opts of configs) {
    const owner = new Map<string, string>(); // mirror reference -> upstream identity
    for (let i = 0; i < 5_000; i++) {
      const input = g.rnd() < 0.15 ? `${g.path()}${g.suffix()}` : `${g.host()}/${g.path()}${g.suffix()}`;
      const up = tryParseReference(input);
      if (up instanceof FerryError) continue; // e.g. a path over 255
      if (isMirrorReference(up, opts)) continue;
      const mirrored = tryToMirrorReference(up, opts);
      if (mirrored instanceof FerryError) {
        // Docker's empty-domain quirk (a path-only input whose first component has a ".") has no host
        const expected = up.domain === '' ? C.MIRROR_NO_HOST : C.MIRROR_TOO_LONG;
        if (mirrored.code !== expected) fail(`${input}: ${mirrored.message}`);
        if (expected === C.MIRROR_NO_HOST) noHost++;
        else tooLong++;
        continue;
      }
      if (up.domain === '') fail(`${input}: mirrored without a host`);
      checked++;
      const m = parseReference(mirrored);
      if (m.domain !== opts.registry) fail(`${mirrored}: domain ${m.domain}, want ${opts.registry}`);
      if (!isMirrorReference(mirrored, opts)) fail(`${mirrored} not recognized as a mirror reference`);
      if (toMirrorReference(mirrored, opts) !== mirrored) fail(`${mirrored} not left alone`);
      const back = fromMirrorImageReference(mirrored, opts);
      // the mirror reference is normalized: no tag and no digest means :latest
      const want = [up.domain.toLowerCase(), up.path, up.tag ?? (up.digest ? undefined : 'latest'), up.digest];
      if (!back || JSON.stringify([back.domain, back.path, back.tag, back.digest]) !== JSON.stringify(want)) {
        fail(`${input} -> ${mirrored} -> ${back ? formatReference(back) : 'undefined'}`);
      }
      const identity = JSON.stringify(want);
      const prev = owner.get(mirrored);
      if (prev !== undefined && prev !== identity) fail(`collision: ${prev} and ${identity} -> ${mirrored}`);
      owner.set(mirrored, identity);
    }
  }
  t.equal(failures, 0, `${checked} round trips over ${configs.length} mirror configs (refused: ${tooLong} too long, ${noHost} without a host)`);
  t.ok(checked > 15_000, 'enough cases');
});

t.test('hosts differing only in case are one registry: same mirror path', async (t) => {
  const a = toMirrorReference('Registry.Example.COM:5000/team/app:1', M);
  const b = toMirrorReference('registry.example.com:5000/team/app:1', M);
  t.equal(a, b);
  t.equal(a, 'mirror.local:5000/registry.example.com_5000/team/app:1');
  t.not(toMirrorReference('[::1]/app', M), toMirrorReference('[0::1]/app', M), 'IPv6 text is kept, not re-compressed');
  t.not(toMirrorReference('a-b.io/x', M), toMirrorReference('a--b.io/x', M));
  t.not(toMirrorReference('ipv6:1/x', M), toMirrorReference('[1]:1/x', M));
});
