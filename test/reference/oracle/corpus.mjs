// Input corpus for the docker oracle (see main.go): every string literal of
// distribution/reference's *_test.go files (go-literals.json), curated cases,
// and 1500 seeded-random references. Deterministic.
import { readFileSync } from 'node:fs';
const H64 = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const H96 = H64 + H64.slice(0, 32);
const H128 = H64 + H64;
const lits = JSON.parse(readFileSync(new URL('./go-literals.json', import.meta.url), 'utf8')).filter((s) => !s.includes('%'));
const curated = [
  // computed cases from docker's tests
  'domain/' + 'a'.repeat(256) + ':tag',
  'a/'.repeat(127) + 'a:tag-puts-this-over-max',
  'example.com/' + 'a'.repeat(255) + ':tag',
  'example.com/' + 'a'.repeat(256),
  'a'.repeat(255), 'a'.repeat(256), 'library/' + 'a'.repeat(247), 'library/' + 'a'.repeat(248),
  'x/' + 'a'.repeat(253), 'x/' + 'a'.repeat(254), 'localhost/' + 'a'.repeat(255), 'localhost/' + 'a'.repeat(256),
  'nginx:' + 'a'.repeat(128), 'nginx:' + 'a'.repeat(129),
  // everyday images
  'nginx', 'nginx:1.27', 'nginx:1.27.3-alpine', 'nginx:latest', 'nginx@sha256:' + H64, 'nginx:1.27@sha256:' + H64,
  'library/nginx', 'docker.io/nginx', 'docker.io/library/nginx', 'index.docker.io/nginx', 'index.docker.io/library/nginx:1',
  'bitnami/redis:7.2', 'docker.io/bitnami/redis', 'index.docker.io/bitnami/redis@sha256:' + H64,
  'ghcr.io/org/app', 'ghcr.io/org/app:v1.2.3', 'ghcr.io/org/team/app:sha-abc123', 'quay.io/prometheus/prometheus:v2.53.0',
  'registry.k8s.io/pause:3.9', 'registry.k8s.io/kube-apiserver:v1.30.2', 'gcr.io/distroless/static:nonroot',
  'public.ecr.aws/nginx/nginx:stable', '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1',
  'mcr.microsoft.com/dotnet/aspnet:8.0', 'registry.gitlab.com/group/sub/project/image:tag',
  'localhost/app', 'localhost:5000/app', 'localhost:5000/app:dev', 'localhost:5000/team/app@sha256:' + H64,
  '127.0.0.1:5000/app', '10.0.0.1/app', '10.0.0.1:443/a/b/c:1', '[::1]:5000/app', '[::1]/app', '[2001:db8::]:5000/app',
  '[::]/app', '[:]/app', '[1]/app', '[::ffff]:1/app:t', '[FE80::1]:5000/app', '[2001:DB8::1]/App', '[::1]:5000/app@sha256:' + H64,
  'Registry.Example.COM/app', 'REGISTRY.EXAMPLE.COM:5000/team/app:Tag', 'Registry/app', 'REGISTRY/app', 'K8S/app', 'Foo/bar/baz',
  'Docker.IO/nginx', 'DOCKER.IO/library/nginx', 'INDEX.DOCKER.IO/nginx', 'Index.Docker.Io/library/nginx',
  'my-registry:5000/app', 'my_registry:5000/app', 'my--registry.local/app', 'xn--n3h.com/app', 'a-b-c.d--e.f/app',
  'foo_bar.com/x', 'foo_bar.com:5000/x', 'a_b.c/d:tag', 'a__b.c/d', 'foo.bar_baz/x', 'under_score:5000/app',
  'app:', 'app@', 'app:tag@', ':tag', '@sha256:' + H64, '/app', 'app/', 'a//b', 'app:tag:tag', 'app@sha256:' + H64 + '@x',
  'app:tag@sha256:' + H64, 'app:TAG', 'app:_tag', 'app:.tag', 'app:-tag', 'app:t.a-g_1', 'APP', 'App:1', 'app/Sub',
  'app@sha256:' + H64.toUpperCase(), 'app@sha256:' + H64.slice(0, 63), 'app@sha256:' + H64 + 'a', 'app@sha384:' + H96,
  'app@sha512:' + H128, 'app@sha512:' + H64, 'app@sha1:' + H64.slice(0, 40), 'app@md5:' + H64.slice(0, 32),
  'app@SHA256:' + H64, 'app@sha256+b64:' + H64, 'app@sha256.x:' + H64, 'app@s:' + H64.slice(0, 31), 'app@sha256:' + 'g'.repeat(64),
  'app@blake3:' + H64, 'app@Sha256:' + H64,
  H64, H64.toUpperCase(), H64.slice(0, 63), H64 + '0', 'sha256:' + H64, 'sha384:' + H96, 'sha512:' + H128, 'sha256:' + H64.slice(1),
  'sha256:' + H64.toUpperCase(), 'docker.io/' + H64, 'x/' + H64, H64 + ':tag', H64 + '@sha256:' + H64,
  'a', '0', '-', '_', '.', 'a.b', 'a-b', 'a--b', 'a---b', 'a_b', 'a__b', 'a___b', 'a._b', 'a-.b', 'a.-b', 'a..b', 'a.', '.a',
  'localhost', 'localhost:5000', 'localhost:', 'localhost/', 'LOCALHOST/app', 'localhost.localdomain/app', 'localhost:5000:6000/app',
  'example.com:/app', 'example.com:port/app', 'example.com:5000:tag', 'example.com:5000', 'example.com', 'example.com/',
  'example.com/app:tag/x', 'http://example.com/app', 'https://registry-1.docker.io/v2/library/nginx', 'example.com /app', ' nginx', 'nginx ',
  'nginx\n', 'ngïnx', 'İmage', 'İmage/x', 'İ_x/bar', '\u212Aube/app', '\u212A_x/app', 'x/\u212A', 'ǅ/x', 'nginx:ümlaut',
  'a'.repeat(64), 'f'.repeat(64), 'F'.repeat(64),
];
// seeded PRNG (mulberry32)
function mulberry32(a) { return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const rnd = mulberry32(20240611);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const atoms = ['a', 'b', 'z', '0', '9', 'ab', 'x1', 'nginx', 'app', 'A', 'Ab', 'library', 'docker', 'io', 'com', 'ff', 'e6'];
const seps = ['.', '_', '__', '-', '--', '___', '.-', '/', ':', '@', '..', '-_'];
function rcomp() { let s = pick(atoms); const n = Math.floor(rnd() * 3); for (let i = 0; i < n; i++) s += pick(seps.slice(0, 5)) + pick(atoms); return s; }
function rhost() {
  const r = rnd();
  if (r < 0.15) return 'localhost' + (rnd() < 0.5 ? ':' + Math.floor(rnd() * 70000) : '');
  if (r < 0.3) return '[' + pick(['::1', '::', '2001:db8::1', 'fe80::1', 'FE80::A', '1', ':', 'fd00:1:2::3', 'g::1', '::1%eth0']) + ']' + (rnd() < 0.6 ? ':' + pick(['5000', '0', '', 'x']) : '');
  if (r < 0.4) return pick(['docker.io', 'index.docker.io', 'Docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io', 'gcr.io']);
  let h = pick(['a', 'b1', 'Reg', 'xn--n3h', 'my-reg', 'my_reg', '-a', 'a-', '10', 'REG']);
  const n = Math.floor(rnd() * 3); for (let i = 0; i < n; i++) h += pick(['.', '.', '-', '_', '..']) + pick(['com', 'io', 'local', 'a', 'Example', '0']);
  if (rnd() < 0.4) h += ':' + pick(['5000', '80', '', 'abc', '05000']);
  return h;
}
const rtag = () => pick(['latest', '1.27', 'v1.2.3-rc.1', 'TAG', '_x', '.x', '-x', 'a'.repeat(128), 'a'.repeat(129), 'tag/x', 't:t', '']);
const rdig = () => pick(['sha256:' + H64, 'sha256:' + H64.toUpperCase(), 'sha256:' + H64.slice(2), 'sha512:' + H128, 'sha384:' + H96, 'sha1:' + H64.slice(0, 40), 'md5:' + H64.slice(0, 32), 'sha256:', 'sha256:' + H64.slice(0, 31), 'SHA256:' + H64, 'a+b:' + H64, 'sha256:xyz']);
const random = new Set();
while (random.size < 1500) {
  let s = '';
  if (rnd() < 0.6) s += rhost() + '/';
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) s += (i ? '/' : '') + rcomp();
  if (rnd() < 0.4) s += ':' + rtag();
  if (rnd() < 0.25) s += '@' + rdig();
  if (rnd() < 0.1) { const i = Math.floor(rnd() * s.length); s = s.slice(0, i) + pick(seps) + s.slice(i); }
  random.add(s);
}
const all = [...new Set([...lits, ...curated, ...random])];
process.stdout.write(all.map((s) => JSON.stringify(s)).join('\n') + '\n');

