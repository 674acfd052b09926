import { readFileSync } from 'node:fs';
import t from 'tap';
import { FerryError } from '../../src/errors.js';
import {
  REFERENCE_ERROR_CODES as C,
  clearReferenceCache,
  familiarName,
  formatReference,
  isNamedReference,
  normalizeReference,
  parseAnyReference,
  parseReference,
  repositoryOf,
  repositoryOfRef,
  tryParseReference,
  type ImageReference,
} from '../../src/reference/index.js';

const H = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const F = 'f'.repeat(64);
const D = `sha256:${H}`;
const H384 = H + H.slice(0, 32);
const H512 = H + H;

/** [input, domain, path, tag, digest, normalized (TagNameOnly), familiar (FamiliarString)] */
type Valid = [string, string, string, string | undefined, string | undefined, string, string];

const VALID: Valid[] = [
  // --- familiar Docker Hub names
  ['nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest', 'nginx'],
  ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined, 'docker.io/library/nginx:1.27', 'nginx:1.27'],
  ['nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest', 'nginx:latest'],
  ['nginx:1.27.3-alpine', 'docker.io', 'library/nginx', '1.27.3-alpine', undefined, 'docker.io/library/nginx:1.27.3-alpine', 'nginx:1.27.3-alpine'],
  [`nginx@${D}`, 'docker.io', 'library/nginx', undefined, D, `docker.io/library/nginx@${D}`, `nginx@${D}`],
  [`nginx:1.27@${D}`, 'docker.io', 'library/nginx', '1.27', D, `docker.io/library/nginx:1.27@${D}`, `nginx:1.27@${D}`],
  ['library/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest', 'nginx'],
  ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest', 'nginx'],
  ['docker.io/nginx:1', 'docker.io', 'library/nginx', '1', undefined, 'docker.io/library/nginx:1', 'nginx:1'],
  ['docker.io/library/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest', 'nginx'],
  ['index.docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest', 'nginx'],
  ['index.docker.io/library/nginx:1', 'docker.io', 'library/nginx', '1', undefined, 'docker.io/library/nginx:1', 'nginx:1'],
  ['index.docker.io/bitnami/redis', 'docker.io', 'bitnami/redis', undefined, undefined, 'docker.io/bitnami/redis:latest', 'bitnami/redis'],
  ['bitnami/redis:7.2', 'docker.io', 'bitnami/redis', '7.2', undefined, 'docker.io/bitnami/redis:7.2', 'bitnami/redis:7.2'],
  ['docker.io/bitnami/redis', 'docker.io', 'bitnami/redis', undefined, undefined, 'docker.io/bitnami/redis:latest', 'bitnami/redis'],
  ['library/foo/bar', 'docker.io', 'library/foo/bar', undefined, undefined, 'docker.io/library/foo/bar:latest', 'library/foo/bar'],
  ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', undefined, undefined, 'docker.io/library/foo/bar:latest', 'library/foo/bar'],
  ['store/foo/bar', 'docker.io', 'store/foo/bar', undefined, undefined, 'docker.io/store/foo/bar:latest', 'store/foo/bar'],
  ['other/library', 'docker.io', 'other/library', undefined, undefined, 'docker.io/other/library:latest', 'other/library'],
  ['docker.io/library', 'docker.io', 'library/library', undefined, undefined, 'docker.io/library/library:latest', 'library'],
  ['docker.io', 'docker.io', 'library/docker.io', undefined, undefined, 'docker.io/library/docker.io:latest', 'docker.io'],
  ['ubuntu-12.04-base', 'docker.io', 'library/ubuntu-12.04-base', undefined, undefined, 'docker.io/library/ubuntu-12.04-base:latest', 'ubuntu-12.04-base'],
  ['dmcgowan/myapp', 'docker.io', 'dmcgowan/myapp', undefined, undefined, 'docker.io/dmcgowan/myapp:latest', 'dmcgowan/myapp'],
  [`dmcgowan/myapp@${D}`, 'docker.io', 'dmcgowan/myapp', undefined, D, `docker.io/dmcgowan/myapp@${D}`, `dmcgowan/myapp@${D}`],
  ['test_com/foo', 'docker.io', 'test_com/foo', undefined, undefined, 'docker.io/test_com/foo:latest', 'test_com/foo'],
  ['docker/migrator', 'docker.io', 'docker/migrator', undefined, undefined, 'docker.io/docker/migrator:latest', 'docker/migrator'],
  ['docker-rules/docker', 'docker.io', 'docker-rules/docker', undefined, undefined, 'docker.io/docker-rules/docker:latest', 'docker-rules/docker'],
  ['docker---rules/docker', 'docker.io', 'docker---rules/docker', undefined, undefined, 'docker.io/docker---rules/docker:latest', 'docker---rules/docker'],
  ['dock__er/docker', 'docker.io', 'dock__er/docker', undefined, undefined, 'docker.io/dock__er/docker:latest', 'dock__er/docker'],
  ['d/docker', 'docker.io', 'd/docker', undefined, undefined, 'docker.io/d/docker:latest', 'd/docker'],
  ['jess/t', 'docker.io', 'jess/t', undefined, undefined, 'docker.io/jess/t:latest', 'jess/t'],
  ['a', 'docker.io', 'library/a', undefined, undefined, 'docker.io/library/a:latest', 'a'],
  ['0', 'docker.io', 'library/0', undefined, undefined, 'docker.io/library/0:latest', '0'],
  ['a.b', 'docker.io', 'library/a.b', undefined, undefined, 'docker.io/library/a.b:latest', 'a.b'],
  ['a--b', 'docker.io', 'library/a--b', undefined, undefined, 'docker.io/library/a--b:latest', 'a--b'],
  ['a__b', 'docker.io', 'library/a__b', undefined, undefined, 'docker.io/library/a__b:latest', 'a__b'],
  ['a/a/a/a', 'docker.io', 'a/a/a/a', undefined, undefined, 'docker.io/a/a/a/a:latest', 'a/a/a/a'],
  ['dbcc1', 'docker.io', 'library/dbcc1', undefined, undefined, 'docker.io/library/dbcc1:latest', 'dbcc1'],
  // 63 and 65 hex characters are names; only exactly 64 is refused
  [H.slice(0, 63), 'docker.io', `library/${H.slice(0, 63)}`, undefined, undefined, `docker.io/library/${H.slice(0, 63)}:latest`, H.slice(0, 63)],
  [`${H}0`, 'docker.io', `library/${H}0`, undefined, undefined, `docker.io/library/${H}0:latest`, `${H}0`],
  [`docker.io/${H}`, 'docker.io', `library/${H}`, undefined, undefined, `docker.io/library/${H}:latest`, H],
  [`x/${H}`, 'docker.io', `x/${H}`, undefined, undefined, `docker.io/x/${H}:latest`, `x/${H}`],
  [`${H}:tag`, 'docker.io', `library/${H}`, 'tag', undefined, `docker.io/library/${H}:tag`, `${H}:tag`],
  // a "digest" that go-digest refuses is read as name:tag
  ['sha256:abc', 'docker.io', 'library/sha256', 'abc', undefined, 'docker.io/library/sha256:abc', 'sha256:abc'],
  [`sha256:${H}`, 'docker.io', 'library/sha256', H, undefined, `docker.io/library/sha256:${H}`, `sha256:${H}`],
  // host:port-looking single components are name:tag
  ['test.com:5000', 'docker.io', 'library/test.com', '5000', undefined, 'docker.io/library/test.com:5000', 'test.com:5000'],
  ['localhost', 'docker.io', 'library/localhost', undefined, undefined, 'docker.io/library/localhost:latest', 'localhost'],
  ['localhost:5000', 'docker.io', 'library/localhost', '5000', undefined, 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['192.168.1.1', 'docker.io', 'library/192.168.1.1', undefined, undefined, 'docker.io/library/192.168.1.1:latest', '192.168.1.1'],
  ['192.168.1.1:5000', 'docker.io', 'library/192.168.1.1', '5000', undefined, 'docker.io/library/192.168.1.1:5000', '192.168.1.1:5000'],
  ['foo_bar.com:8080', 'docker.io', 'library/foo_bar.com', '8080', undefined, 'docker.io/library/foo_bar.com:8080', 'foo_bar.com:8080'],
  ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io', 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', undefined, undefined, 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev'],
  // --- tags
  ['lowercase:Uppercase', 'docker.io', 'library/lowercase', 'Uppercase', undefined, 'docker.io/library/lowercase:Uppercase', 'lowercase:Uppercase'],
  ['app:_tag', 'docker.io', 'library/app', '_tag', undefined, 'docker.io/library/app:_tag', 'app:_tag'],
  ['app:t.a-g_1', 'docker.io', 'library/app', 't.a-g_1', undefined, 'docker.io/library/app:t.a-g_1', 'app:t.a-g_1'],
  [`app:${'a'.repeat(128)}`, 'docker.io', 'library/app', 'a'.repeat(128), undefined, `docker.io/library/app:${'a'.repeat(128)}`, `app:${'a'.repeat(128)}`],
  // --- other registries
  ['ghcr.io/org/app', 'ghcr.io', 'org/app', undefined, undefined, 'ghcr.io/org/app:latest', 'ghcr.io/org/app'],
  ['ghcr.io/org/team/app:sha-abc123', 'ghcr.io', 'org/team/app', 'sha-abc123', undefined, 'ghcr.io/org/team/app:sha-abc123', 'ghcr.io/org/team/app:sha-abc123'],
  ['quay.io/prometheus/prometheus:v2.53.0', 'quay.io', 'prometheus/prometheus', 'v2.53.0', undefined, 'quay.io/prometheus/prometheus:v2.53.0', 'quay.io/prometheus/prometheus:v2.53.0'],
  ['registry.k8s.io/pause:3.9', 'registry.k8s.io', 'pause', '3.9', undefined, 'registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
  ['gcr.io/library/busybox', 'gcr.io', 'library/busybox', undefined, undefined, 'gcr.io/library/busybox:latest', 'gcr.io/library/busybox'],
  [`gcr.io/library/busybox:latest@${D}`, 'gcr.io', 'library/busybox', 'latest', D, `gcr.io/library/busybox:latest@${D}`, `gcr.io/library/busybox:latest@${D}`],
  ['public.ecr.aws/nginx/nginx:stable', 'public.ecr.aws', 'nginx/nginx', 'stable', undefined, 'public.ecr.aws/nginx/nginx:stable', 'public.ecr.aws/nginx/nginx:stable'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1', '123456789012.dkr.ecr.us-east-1.amazonaws.com', 'app', '1', undefined, '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1', '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1'],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux', 'some-long-tag', undefined, 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag'],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'test.example.com/my-app', 'test.example.com', undefined, 'b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com'],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'myimage', 'xn--n3h.com', undefined, 'xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
  [`xn--7o8h.com/myimage:xn--7o8h.com@sha256:${F}`, 'xn--7o8h.com', 'myimage', 'xn--7o8h.com', `sha256:${F}`, `xn--7o8h.com/myimage:xn--7o8h.com@sha256:${F}`, `xn--7o8h.com/myimage:xn--7o8h.com@sha256:${F}`],
  ['test.com/foo', 'test.com', 'foo', undefined, undefined, 'test.com/foo:latest', 'test.com/foo'],
  ['test.com:8080/foo', 'test.com:8080', 'foo', undefined, undefined, 'test.com:8080/foo:latest', 'test.com:8080/foo'],
  ['test-com:8080/foo', 'test-com:8080', 'foo', undefined, undefined, 'test-com:8080/foo:latest', 'test-com:8080/foo'],
  ['test:5000/repo', 'test:5000', 'repo', undefined, undefined, 'test:5000/repo:latest', 'test:5000/repo'],
  [`test:5000/repo:tag@sha256:${F}`, 'test:5000', 'repo', 'tag', `sha256:${F}`, `test:5000/repo:tag@sha256:${F}`, `test:5000/repo:tag@sha256:${F}`],
  ['example.com:8000/private/moonbase', 'example.com:8000', 'private/moonbase', undefined, undefined, 'example.com:8000/private/moonbase:latest', 'example.com:8000/private/moonbase'],
  ['my-registry:5000/app', 'my-registry:5000', 'app', undefined, undefined, 'my-registry:5000/app:latest', 'my-registry:5000/app'],
  ['a-b-c.d--e.f/app', 'a-b-c.d--e.f', 'app', undefined, undefined, 'a-b-c.d--e.f/app:latest', 'a-b-c.d--e.f/app'],
  // --- localhost and IPs
  ['localhost/app', 'localhost', 'app', undefined, undefined, 'localhost/app:latest', 'localhost/app'],
  ['localhost/fooo/bar', 'localhost', 'fooo/bar', undefined, undefined, 'localhost/fooo/bar:latest', 'localhost/fooo/bar'],
  ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev', undefined, 'localhost:5000/app:dev', 'localhost:5000/app:dev'],
  ['localhost.localdomain/app', 'localhost.localdomain', 'app', undefined, undefined, 'localhost.localdomain/app:latest', 'localhost.localdomain/app'],
  ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', undefined, undefined, '127.0.0.1:5000/app:latest', '127.0.0.1:5000/app'],
  ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000', 'private/moonbase', undefined, undefined, '127.0.0.1:8000/private/moonbase:latest', '127.0.0.1:8000/private/moonbase'],
  ['192.168.1.1/repo', '192.168.1.1', 'repo', undefined, undefined, '192.168.1.1/repo:latest', '192.168.1.1/repo'],
  ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050', undefined, '192.168.1.1:5000/repo:5050', '192.168.1.1:5000/repo:5050'],
  ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian', undefined, undefined, '192.168.0.1:8/debian:latest', '192.168.0.1:8/debian'],
  ['[::1]:5000/repo', '[::1]:5000', 'repo', undefined, undefined, '[::1]:5000/repo:latest', '[::1]:5000/repo'],
  ['[::1]/app', '[::1]', 'app', undefined, undefined, '[::1]/app:latest', '[::1]/app'],
  ['[2001:db8::1]/repo', '[2001:db8::1]', 'repo', undefined, undefined, '[2001:db8::1]/repo:latest', '[2001:db8::1]/repo'],
  ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', 'repo', 'tag', undefined, '[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000/repo:tag'],
  [`[2001:db8::1]:5000/repo@sha256:${F}`, '[2001:db8::1]:5000', 'repo', undefined, `sha256:${F}`, `[2001:db8::1]:5000/repo@sha256:${F}`, `[2001:db8::1]:5000/repo@sha256:${F}`],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]', 'repo', 'tag', undefined, '[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]/repo:tag'],
  ['[2001:db8::]:5000/repo', '[2001:db8::]:5000', 'repo', undefined, undefined, '[2001:db8::]:5000/repo:latest', '[2001:db8::]:5000/repo'],
  ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', undefined, undefined, '[fc00::1]:5000/docker/docker:latest', '[fc00::1]:5000/docker/docker'],
  ['[FE80::1]:5000/app', '[FE80::1]:5000', 'app', undefined, undefined, '[FE80::1]:5000/app:latest', '[FE80::1]:5000/app'],
  ['[:]/app', '[:]', 'app', undefined, undefined, '[:]/app:latest', '[:]/app'], // the grammar allows it
  // --- uppercase domains are kept as written
  ['Foo/bar', 'Foo', 'bar', undefined, undefined, 'Foo/bar:latest', 'Foo/bar'],
  ['FOO/bar', 'FOO', 'bar', undefined, undefined, 'FOO/bar:latest', 'FOO/bar'],
  ['Docker/docker', 'Docker', 'docker', undefined, undefined, 'Docker/docker:latest', 'Docker/docker'],
  ['LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN', 'fooo/bar', undefined, undefined, 'LOCALDOMAIN/fooo/bar:latest', 'LOCALDOMAIN/fooo/bar'],
  ['LOCALHOST/app', 'LOCALHOST', 'app', undefined, undefined, 'LOCALHOST/app:latest', 'LOCALHOST/app'],
  ['Registry.Example.COM/app', 'Registry.Example.COM', 'app', undefined, undefined, 'Registry.Example.COM/app:latest', 'Registry.Example.COM/app'],
  ['REGISTRY.EXAMPLE.COM:5000/team/app:Tag', 'REGISTRY.EXAMPLE.COM:5000', 'team/app', 'Tag', undefined, 'REGISTRY.EXAMPLE.COM:5000/team/app:Tag', 'REGISTRY.EXAMPLE.COM:5000/team/app:Tag'],
  ['Asdf.com/foo/bar', 'Asdf.com', 'foo/bar', undefined, undefined, 'Asdf.com/foo/bar:latest', 'Asdf.com/foo/bar'],
  // Docker Hub's names are folded only when spelled exactly
  ['Docker.IO/nginx', 'Docker.IO', 'nginx', undefined, undefined, 'Docker.IO/nginx:latest', 'Docker.IO/nginx'],
  ['INDEX.DOCKER.IO/nginx', 'INDEX.DOCKER.IO', 'nginx', undefined, undefined, 'INDEX.DOCKER.IO/nginx:latest', 'INDEX.DOCKER.IO/nginx'],
  // --- Docker's empty-domain quirk: a "." first component that is not a valid host
  ['foo_bar.com/x', '', 'foo_bar.com/x', undefined, undefined, 'foo_bar.com/x:latest', 'foo_bar.com/x'],
  ['a_b.c/d:tag', '', 'a_b.c/d', 'tag', undefined, 'a_b.c/d:tag', 'a_b.c/d:tag'],
  ['foo/foo_bar.com:8080', 'docker.io', 'foo/foo_bar.com', '8080', undefined, 'docker.io/foo/foo_bar.com:8080', 'foo/foo_bar.com:8080'],
  // --- digests of every registered algorithm
  [`app@sha384:${H384}`, 'docker.io', 'library/app', undefined, `sha384:${H384}`, `docker.io/library/app@sha384:${H384}`, `app@sha384:${H384}`],
  [`app@sha512:${H512}`, 'docker.io', 'library/app', undefined, `sha512:${H512}`, `docker.io/library/app@sha512:${H512}`, `app@sha512:${H512}`],
  // --- length: 255 is the limit for the path, the domain not counted
  [`example.com/${'a'.repeat(255)}:tag`, 'example.com', 'a'.repeat(255), 'tag', undefined, `example.com/${'a'.repeat(255)}:tag`, `example.com/${'a'.repeat(255)}:tag`],
  [`library/${'a'.repeat(247)}`, 'docker.io', `library/${'a'.repeat(247)}`, undefined, undefined, `docker.io/library/${'a'.repeat(247)}:latest`, 'a'.repeat(247)],
  [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, 'docker.io', `${'a/'.repeat(127)}a`, 'tag-puts-this-over-max', undefined, `docker.io/${'a/'.repeat(127)}a:tag-puts-this-over-max`, `${'a/'.repeat(127)}a:tag-puts-this-over-max`],
];

/** [input, code] */
const INVALID: Array<[string, string]> = [
  ['', C.INVALID_FORMAT],
  [' nginx', C.INVALID_FORMAT],
  ['nginx ', C.INVALID_FORMAT],
  ['nginx\n', C.INVALID_FORMAT],
  ['https://github.com/docker/docker', C.INVALID_FORMAT],
  ['http://example.com/app', C.INVALID_FORMAT],
  ['-docker', C.INVALID_FORMAT],
  ['-foo', C.INVALID_FORMAT],
  ['-docker/docker', C.INVALID_FORMAT],
  ['-docker.io/docker/docker', C.INVALID_FORMAT],
  ['docker-/docker', C.INVALID_FORMAT],
  ['-docker-/docker', C.INVALID_FORMAT],
  ['docker///docker', C.INVALID_FORMAT],
  ['docker.io/docker///docker', C.INVALID_FORMAT],
  ['____/____', C.INVALID_FORMAT],
  ['_docker/_docker', C.INVALID_FORMAT],
  ['dock..er/docker', C.INVALID_FORMAT],
  ['dock_.er/docker', C.INVALID_FORMAT],
  ['dock-.er/docker', C.INVALID_FORMAT],
  ['a___b', C.INVALID_FORMAT],
  ['a._b', C.INVALID_FORMAT],
  ['a.', C.INVALID_FORMAT],
  ['.a', C.INVALID_FORMAT],
  ['docker/', C.INVALID_FORMAT],
  ['/app', C.INVALID_FORMAT],
  ['a//b', C.INVALID_FORMAT],
  [':justtag', C.INVALID_FORMAT],
  [`@sha256:${F}`, C.INVALID_FORMAT],
  ['app:', C.INVALID_FORMAT],
  ['app@', C.INVALID_FORMAT],
  ['app:tag@', C.INVALID_FORMAT],
  ['app:tag:tag', C.INVALID_FORMAT],
  ['app:-tag', C.INVALID_FORMAT],
  ['app:.tag', C.INVALID_FORMAT],
  [`app:${'a'.repeat(129)}`, C.INVALID_FORMAT],
  ['app:ümlaut', C.INVALID_FORMAT],
  ['ngïnx', C.INVALID_FORMAT],
  [`app@sha256:${H}@x`, C.INVALID_FORMAT],
  ['aa/asdf$$^/aa', C.INVALID_FORMAT],
  ['example.com:/app', C.INVALID_FORMAT],
  ['example.com:port/app', C.INVALID_FORMAT],
  ['localhost:5000:6000/app', C.INVALID_FORMAT],
  ['example.com/app:tag/x', C.INVALID_FORMAT],
  ['[fc00::1]', C.INVALID_FORMAT],
  ['[fc00::1]:5000', C.INVALID_FORMAT],
  ['[2001:db8::1]:tag', C.INVALID_FORMAT],
  ['fc00::1:5000/debian', C.INVALID_FORMAT],
  ['[fe80::1%eth0]:5000/debian', C.INVALID_FORMAT],
  ['[fe80::1%@invalidzone]:5000/repo', C.INVALID_FORMAT],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', C.INVALID_FORMAT],
  ['foo:bar/baz', C.INVALID_FORMAT],
  [`app@sha256+b64:${H}`, C.DIGEST_UNSUPPORTED],
  [`app@sha256:${'g'.repeat(64)}`, C.INVALID_FORMAT],
  [`app@s:${H.slice(0, 31)}`, C.INVALID_FORMAT], // fewer than 32 hex: not even the grammar's digest
  // uppercase in the repository path
  ['docker/Docker', C.UPPERCASE],
  ['docker.io/docker/Docker', C.UPPERCASE],
  ['Uppercase:tag', C.UPPERCASE],
  ['APP', C.UPPERCASE],
  ['App:1', C.UPPERCASE],
  ['app/Sub', C.UPPERCASE],
  ['test:5000/Uppercase/lowercase:tag', C.UPPERCASE],
  ['Foo/FarB', C.UPPERCASE],
  [`docker.io/FOO@${D}`, C.UPPERCASE],
  [`SHA256:${H}`, C.UPPERCASE],
  ['Foo_x/bar', C.UPPERCASE], // an uppercase first component is a domain; with "_" it is not a valid one
  ['İmage', C.UPPERCASE],
  ['\u212Aube/app', C.UPPERCASE], // KELVIN SIGN lowercases to "k": Docker calls it uppercase too
  [H.toUpperCase(), C.UPPERCASE],
  // 64-hex identifiers
  [H, C.HEX_NAME],
  [F, C.HEX_NAME],
  ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', C.HEX_NAME],
  // too long (path > 255, domain not counted)
  [`domain/${'a'.repeat(256)}:tag`, C.NAME_TOO_LONG],
  [`example.com/${'a'.repeat(256)}`, C.NAME_TOO_LONG],
  [`library/${'a'.repeat(248)}`, C.NAME_TOO_LONG],
  ['a'.repeat(256), C.NAME_TOO_LONG], // gets "library/": 264
  ['a'.repeat(248), C.NAME_TOO_LONG],
  [`localhost/${'a'.repeat(256)}`, C.NAME_TOO_LONG],
  [
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
    C.NAME_TOO_LONG,
  ],
  // digests
  [`repo@sha256:${'f'.repeat(34)}`, C.DIGEST_LENGTH],
  [`app@sha256:${H.slice(0, 63)}`, C.DIGEST_LENGTH],
  [`app@sha256:${H}a`, C.DIGEST_LENGTH],
  [`app@sha512:${H}`, C.DIGEST_LENGTH],
  [`app@sha384:${H}`, C.DIGEST_LENGTH],
  [`app@sha256:${H.toUpperCase()}`, C.DIGEST_FORMAT],
  [`validname@invaliddigest:${F}`, C.DIGEST_UNSUPPORTED],
  [`app@sha1:${H.slice(0, 40)}`, C.DIGEST_UNSUPPORTED],
  [`app@md5:${H.slice(0, 32)}`, C.DIGEST_UNSUPPORTED],
  [`app@blake3:${H}`, C.DIGEST_UNSUPPORTED],
  [`app:tag@SHA256:${H}`, C.DIGEST_FORMAT], // not in go-digest's algorithm grammar (lowercase only)
  [`app:1@Sha256:${H}`, C.DIGEST_FORMAT],
  // ...but without a tag, Docker's lowercase check reads up to the first ":" ("library/app@SHA256")
  [`app@SHA256:${H}`, C.UPPERCASE],
  [`app@Sha256:${H}`, C.UPPERCASE],
];

const shape = (r: ImageReference) => [r.domain, r.path, r.tag, r.digest];

t.test('valid references: domain, path, tag, digest, normalized and familiar forms', async (t) => {
  t.ok(VALID.length >= 100, `${VALID.length} valid rows`);
  for (const [input, domain, path, tag, digest, normalized, familiar] of VALID) {
    const r = parseReference(input);
    t.strictSame(shape(r), [domain, path, tag, digest], `parse ${JSON.stringify(input)}`);
    t.equal(formatReference(r), normalized, `format ${JSON.stringify(input)}`);
    t.equal(normalizeReference(input), normalized, `normalize ${JSON.stringify(input)}`);
    t.equal(familiarName(r), familiar, `familiar ${JSON.stringify(input)}`);
    t.equal(repositoryOf(r), domain === '' ? path : `${domain}/${path}`, `repository ${JSON.stringify(input)}`);
    // the normalized form is a fixed point
    t.strictSame(shape(parseReference(normalized)), [domain, path, tag ?? (digest ? undefined : 'latest'), digest], `reparse ${normalized}`);
  }
});

t.test('invalid references: FerryError with the right code, hint and status', async (t) => {
  t.ok(INVALID.length >= 90, `${INVALID.length} invalid rows`);
  for (const [input, code] of INVALID) {
    const r = tryParseReference(input);
    if (!(r instanceof FerryError)) {
      t.fail(`${JSON.stringify(input)} should be refused with ${code}, parsed as ${formatReference(r)}`);
      continue;
    }
    t.equal(r.code, code, `code for ${JSON.stringify(input)}: ${r.message}`);
    t.ok(r.hint && r.hint.length > 20, 'has a hint');
    t.equal(r.status, 400);
    t.throws(() => parseReference(input), { code }, `parseReference throws for ${JSON.stringify(input)}`);
    t.throws(() => normalizeReference(input), { code });
  }
});

t.test('error messages name the input and keep docker\'s reason', async (t) => {
  const e = tryParseReference('docker/Docker') as FerryError;
  t.equal(e.message, 'invalid image reference "docker/Docker": invalid reference format: repository name (docker/Docker) must be lowercase');
  t.equal(e.details?.reason, 'invalid reference format: repository name (docker/Docker) must be lowercase');
  t.match(e.describe(), /lowercase \(write the repository path in lowercase/);
  const hex = tryParseReference(H) as FerryError;
  t.equal(hex.details?.reason, `invalid repository name (${H}), cannot specify 64-byte hexadecimal strings`);
  const long = tryParseReference(`x/${'a'.repeat(400)}!`) as FerryError;
  t.ok(long.message.length < 400, 'long inputs are cut in messages');
  t.same(JSON.parse(JSON.stringify(e)).code, C.UPPERCASE, 'serializes with its code');
});

t.test('tag and digest together, and what gets :latest', async (t) => {
  t.equal(normalizeReference('nginx'), 'docker.io/library/nginx:latest');
  t.equal(normalizeReference(`nginx@${D}`), `docker.io/library/nginx@${D}`, 'digest-only: no latest');
  t.equal(normalizeReference(`nginx:1.27@${D}`), `docker.io/library/nginx:1.27@${D}`, 'tag + digest: both kept');
  t.equal(formatReference({ domain: 'docker.io', path: 'library/nginx' }), 'docker.io/library/nginx:latest');
  t.equal(formatReference({ domain: 'docker.io', path: 'library/nginx', tag: '' }), 'docker.io/library/nginx:latest', 'empty tag = no tag');
  t.equal(familiarName({ domain: 'docker.io', path: 'library/nginx' }), 'nginx', 'familiar adds no tag');
  t.equal(familiarName({ domain: 'docker.io', path: 'library/a/b', tag: 'x' }), 'library/a/b:x');
});

t.test('parseAnyReference: identifiers and digests, else a name', async (t) => {
  const rows: Array<[string, string]> = [
    [H, `sha256:${H}`],
    [`sha256:${H}`, `sha256:${H}`],
    [`sha384:${H384}`, `sha384:${H384}`],
    [`sha512:${H512}`, `sha512:${H512}`],
    [`sha256:${H.slice(1)}`, `docker.io/library/sha256:${H.slice(1)}`],
    ['sha256:abc', 'docker.io/library/sha256:abc'],
    [`sha512:${H}`, `docker.io/library/sha512:${H}`],
    [`sha256:${H.toUpperCase()}`, `docker.io/library/sha256:${H.toUpperCase()}`],
    [H.slice(0, 63), `docker.io/library/${H.slice(0, 63)}:latest`],
    ['dbcc1', 'docker.io/library/dbcc1:latest'],
    ['redis', 'docker.io/library/redis:latest'],
    [`redis@${D}`, `docker.io/library/redis@${D}`],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
  ];
  for (const [input, want] of rows) {
    const r = parseAnyReference(input);
    t.equal(isNamedReference(r) ? formatReference(r) : r.digest, want, input);
    t.equal(isNamedReference(r), want.startsWith('docker.io/'), `kind of ${input}`);
  }
  t.equal(familiarName(parseAnyReference(H)), `sha256:${H}`);
  t.throws(() => parseAnyReference('Nope'), { code: C.UPPERCASE });
  t.throws(() => parseAnyReference(`sha256:${H}@x`), { code: C.INVALID_FORMAT });
});

t.test('cache: repeated parses share one frozen result, errors included', async (t) => {
  clearReferenceCache();
  const a = parseReference('nginx:1.27');
  const b = parseReference('nginx:1.27');
  t.equal(a, b, 'same object from the cache');
  t.ok(Object.isFrozen(a), 'frozen, so sharing is safe');
  t.throws(() => {
    (a as { tag?: string }).tag = 'x';
  });
  t.equal(tryParseReference('Bad/Bad'), tryParseReference('Bad/Bad'), 'errors are cached too');
  // fill past the bound: still correct afterwards
  for (let i = 0; i < 10_050; i++) tryParseReference(`app${i}:1`);
  t.strictSame(shape(parseReference('app0:1')), ['docker.io', 'library/app0', '1', undefined]);
  t.strictSame(shape(parseReference('nginx:1.27')), ['docker.io', 'library/nginx', '1.27', undefined]);
  const long = `x/${'a'.repeat(2000)}`;
  t.equal(tryParseReference(long).constructor, FerryError, 'uncacheably long input still parses (too long)');
});

t.test('adversarial inputs are refused without backtracking blow-up', async (t) => {
  // an exponential regex would never finish these 1.4M characters: the guard is the timeout, not a measured time
  t.setTimeout(60_000);
  const inputs = [
    `${'a'.repeat(200_000)}!`,
    `${'a-'.repeat(100_000)}!`,
    `${'a.'.repeat(100_000)}/!`,
    `${'a/'.repeat(100_000)}!`,
    `x/${'a_'.repeat(100_000)}a!`,
    `[${':'.repeat(200_000)}/x`,
    `${'A'.repeat(200_000)}/x!`,
  ];
  for (const s of inputs) t.type(tryParseReference(s), FerryError);
});

/**
 * Conformance against Docker itself: test/reference/fixtures/docker-oracle.jsonl
 * holds what distribution/reference v0.6.0 (+ go-digest v1.0.0, sha256/384/512)
 * returned for ~2000 inputs: every string literal of its own *_test.go files,
 * curated cases, and 1500 seeded-random references (see fixtures/oracle/).
 * Row: { in, err } or { in, domain, path, tag?, digest?, familiar, normalized },
 * plus anyDigest when ParseAnyReference returns a digest-only reference.
 */
interface OracleRow {
  in: string;
  err?: string;
  domain?: string;
  path?: string;
  tag?: string;
  digest?: string;
  familiar?: string;
  normalized?: string;
  anyDigest?: string;
}

const REASON_CODE: Array<[RegExp, string]> = [
  [/cannot specify 64-byte hexadecimal strings$/, C.HEX_NAME],
  [/must be lowercase\)?$/, C.UPPERCASE],
  [/^repository name must not be more than 255 characters$/, C.NAME_TOO_LONG],
  [/^invalid checksum digest format$/, C.DIGEST_FORMAT],
  [/^invalid checksum digest length$/, C.DIGEST_LENGTH],
  [/^unsupported digest algorithm$/, C.DIGEST_UNSUPPORTED],
  [/^invalid reference format$/, C.INVALID_FORMAT],
];

t.test('conformance with docker distribution/reference (oracle fixture)', async (t) => {
  const rows = readFileSync(new URL('./fixtures/docker-oracle.jsonl', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OracleRow);
  t.ok(rows.length > 2000, `${rows.length} oracle rows`);
  let valid = 0;
  let failures = 0;
  for (const o of rows) {
    const r = tryParseReference(o.in);
    const label = JSON.stringify(o.in.length > 80 ? `${o.in.slice(0, 80)}…` : o.in);
    if (o.err !== undefined) {
      const code = REASON_CODE.find(([re]) => re.test(o.err ?? ''))?.[1];
      const ok = r instanceof FerryError && r.details?.reason === o.err && r.code === code;
      if (!ok) {
        failures++;
        t.fail(`${label}: docker says ${o.err}, got ${r instanceof FerryError ? `${r.code} ${String(r.details?.reason)}` : formatReference(r)}`);
      }
    } else {
      valid++;
      const want = [o.domain, o.path, o.tag, o.digest, o.normalized, o.familiar];
      const got = r instanceof FerryError ? [r.message] : [r.domain, r.path, r.tag, r.digest, formatReference(r), familiarName(r)];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        failures++;
        t.strictSame(got, want, label);
      }
    }
    // ParseAnyReference agrees too
    if (o.anyDigest !== undefined) {
      const a = parseAnyReference(o.in);
      if (isNamedReference(a) || a.digest !== o.anyDigest) {
        failures++;
        t.fail(`${label}: ParseAnyReference gives digest ${o.anyDigest}`);
      }
    } else if (o.err === undefined) {
      const a = parseAnyReference(o.in);
      if (!isNamedReference(a) || formatReference(a) !== o.normalized) {
        failures++;
        t.fail(`${label}: ParseAnyReference gives ${o.normalized}`);
      }
    }
  }
  t.equal(failures, 0, `all ${rows.length} rows agree with docker (${valid} valid, ${rows.length - valid} invalid)`);
  t.ok(valid > 500 && rows.length - valid > 500, 'both sides well covered');
});

t.test('repositoryOfRef: the repository of a normalized ref string, a registry port kept', async (t) => {
  for (const [ref, repo] of [
    ['docker.io/library/nginx:1.27', 'docker.io/library/nginx'],
    ['127.0.0.1:5000/demo/app@sha256:' + 'a'.repeat(64), '127.0.0.1:5000/demo/app'],
    ['127.0.0.1:5000/demo/app:v1@sha256:' + 'b'.repeat(64), '127.0.0.1:5000/demo/app'],
    ['127.0.0.1:5000/demo/app', '127.0.0.1:5000/demo/app'],
  ] as const) {
    t.equal(repositoryOfRef(ref), repo, ref);
    t.equal(repositoryOfRef(ref), repositoryOf(parseReference(ref)), `${ref}: as the parser reads it`);
  }
});
