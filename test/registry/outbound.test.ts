/**
 * Where the registry client may connect when an upstream chose the address
 * (outbound.ts), and what may go into a /v2/ URL (paths.ts): pure decisions,
 * as tables. Nothing here opens a connection; the guarded lookup is fed by a
 * fake hosts table (no DNS query leaves the process).
 */
import t from 'tap';
import { guardedLookup } from '../../src/registry/transport/http.js';
import { descriptorShapeProblem } from '../../src/registry/manifest.js';
import { addressProblem, classifyAddress, classifyHost, loopbackAllowed, outboundProblem, realmProblem } from '../../src/registry/outbound.js';
import { blobPath, digestProblem, manifestPath, repositoryProblem, tagProblem, uploadsPath } from '../../src/registry/paths.js';
import { installFakeDns } from './support/fakedns.js';

t.test('classifyAddress: IPv4, IPv6, embedded IPv4, zones, brackets', async (t) => {
  const table: [string, ReturnType<typeof classifyAddress>][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'loopback'], // Linux connects 0.0.0.0 to this host
    ['0.1.2.3', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.2', 'link-local'], // ECS task metadata
    ['169.254.0.1', 'link-local'],
    ['169.253.255.255', 'other'],
    ['169.255.0.0', 'other'],
    ['100.100.100.200', 'metadata'],
    ['100.100.100.201', 'other'],
    ['168.63.129.16', 'metadata'],
    ['10.0.0.1', 'other'],
    ['192.168.1.1', 'other'],
    ['8.8.8.8', 'other'],
    ['::1', 'loopback'],
    ['::', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['::FFFF:A9FE:A9FE', 'link-local'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::169.254.169.254', 'link-local'], // IPv4-compatible (deprecated)
    ['::ffff:0:a9fe:a9fe', 'link-local'], // SIIT
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['::ffff:100.100.100.200', 'metadata'],
    ['fe80::1', 'link-local'],
    ['FE80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'other'],
    ['fd00:ec2::254', 'metadata'],
    ['FD00:EC2:0:0:0:0:0:254', 'metadata'],
    ['[fd00:ec2::254]', 'metadata'],
    ['fd00:ec2::253', 'other'],
    ['2001:db8::1', 'other'],
    ['2606:4700:4700::1111', 'other'],
    ['::ffff:8.8.8.8', 'other'],
    ['example.com', undefined],
    ['1.2.3', undefined],
    ['', undefined],
  ];
  for (const [ip, kind] of table) t.equal(classifyAddress(ip), kind, ip || '(empty)');
});

t.test('classifyHost: names as written (case, trailing dots, localhost, metadata names)', async (t) => {
  const table: [string, string][] = [
    ['localhost', 'loopback'],
    ['LOCALHOST.', 'loopback'],
    ['redis.localhost', 'loopback'],
    ['metadata', 'metadata'],
    ['metadata.google.internal', 'metadata'],
    ['Metadata.Google.Internal.', 'metadata'],
    ['metadata.google.internal..', 'metadata'],
    ['metadata.goog', 'metadata'],
    ['instance-data', 'metadata'],
    ['instance-data.ec2.internal', 'metadata'],
    ['metadata.example.com', 'other'],
    ['notlocalhost', 'other'],
    ['registry-1.docker.io', 'other'],
    ['169.254.169.254', 'link-local'],
    ['[::1]', 'loopback'],
  ];
  for (const [h, kind] of table) t.equal(classifyHost(h), kind, h);
});

const REMOTE = 'https://registry.example';
const LOOPBACK = 'http://127.0.0.1:5000';

t.test('outboundProblem: every spelling WHATWG URL accepts for a forbidden target', async (t) => {
  // [target, from, refused?, message part]
  const table: [string, string, boolean, RegExp?][] = [
    ['https://auth.example/token', REMOTE, false],
    ['http://cdn.example/blob', REMOTE, false],
    ['https://auth.docker.io/token?service=x', REMOTE, false],
    ['http://10.1.2.3:5000/v2/', REMOTE, false], // private networks are where private registries live
    ['ftp://auth.example/token', REMOTE, true, /scheme ftp:/],
    ['file:///etc/passwd', REMOTE, true, /scheme file:/],
    ['file:///etc/passwd', LOOPBACK, true, /scheme file:/],
    ['gopher://127.0.0.1:6379/_SET', LOOPBACK, true, /scheme gopher:/],
    ['javascript:alert(1)', REMOTE, true, /scheme javascript:/],
    ['data:text/plain,x', REMOTE, true, /scheme data:/],
    ['ws://auth.example/', REMOTE, true, /scheme ws:/],
    // link-local / metadata in every spelling, from anywhere (loopback registries included)
    ['http://169.254.169.254/latest/meta-data/', REMOTE, true, /link-local/],
    ['http://169.254.169.254/latest/meta-data/', LOOPBACK, true, /link-local/],
    ['http://2852039166/', REMOTE, true, /link-local/],
    ['http://0251.0376.0251.0376/', REMOTE, true, /link-local/],
    ['http://0xa9fea9fe/', REMOTE, true, /link-local/],
    ['http://0xA9.0xFE.0xA9.0xFE/', REMOTE, true, /link-local/],
    ['http://169.254.43518/', REMOTE, true, /link-local/],
    ['http://169.254.169.254./', REMOTE, true, /link-local/],
    ['http://[::ffff:169.254.169.254]/', REMOTE, true, /link-local/],
    ['http://[::ffff:a9fe:a9fe]/', LOOPBACK, true, /link-local/],
    ['http://[64:ff9b::a9fe:a9fe]/', REMOTE, true, /link-local/],
    ['http://[fe80::1]/', LOOPBACK, true, /link-local/],
    ['http://[FE80::abcd]:8080/', REMOTE, true, /link-local/],
    ['http://user:pass@169.254.169.254/', REMOTE, true, /link-local/],
    ['http://evil.example@169.254.169.254/', REMOTE, true, /link-local/],
    ['http://169.254.169.254\\@evil.example/', REMOTE, true, /link-local/], // backslash ends the host in special schemes
    ['http://[fd00:ec2::254]/latest/', REMOTE, true, /metadata/],
    ['http://100.100.100.200/latest/meta-data/', LOOPBACK, true, /metadata/],
    ['http://168.63.129.16/machine', REMOTE, true, /metadata/],
    ['http://metadata.google.internal/computeMetadata/v1/', REMOTE, true, /metadata/],
    ['http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/', LOOPBACK, true, /metadata/],
    ['http://metadata/computeMetadata/v1/', REMOTE, true, /metadata/],
    ['https://metadata.goog/', REMOTE, true, /metadata/],
    // loopback: refused from a remote registry, allowed from a loopback one
    ['http://127.0.0.1:6379/', REMOTE, true, /loopback/],
    ['http://127.0.0.1:6379/', LOOPBACK, false],
    ['http://127.1/', REMOTE, true, /loopback/],
    ['http://2130706433/', REMOTE, true, /loopback/],
    ['http://0x7f000001/', REMOTE, true, /loopback/],
    ['http://017700000001/', REMOTE, true, /loopback/],
    ['http://0.0.0.0:6379/', REMOTE, true, /loopback/],
    ['http://0/', REMOTE, true, /loopback/],
    ['http://localhost:6379/', REMOTE, true, /loopback/],
    ['http://LOCALHOST.:6379/', REMOTE, true, /loopback/],
    ['http://redis.localhost/', REMOTE, true, /loopback/],
    ['http://[::1]:6379/', REMOTE, true, /loopback/],
    ['http://[::]:6379/', REMOTE, true, /loopback/],
    ['http://[::ffff:127.0.0.1]:6379/', REMOTE, true, /loopback/],
    ['http://[::1]:6379/', LOOPBACK, false],
    ['http://localhost:9/', 'http://localhost:5000', false],
    ['http://127.0.0.1:9/', 'http://[::1]:5000', false],
    ['http://127.0.0.1:9/', 'http://localhost:5000', false],
    // a name is judged on what it resolves to (guardedLookup), not here
    ['http://registry.example:6379/', REMOTE, false],
  ];
  for (const [target, from, refused, msg] of table) {
    const p = outboundProblem(new URL(target), new URL(from));
    if (refused) t.match(p, msg ?? /./, `${target} from ${from}: refused`);
    else t.equal(p, undefined, `${target} from ${from}: allowed`);
  }
});

t.test('realmProblem: outboundProblem plus no credentials over http from an https registry', async (t) => {
  const r = (realm: string, registry: string, creds: boolean) => realmProblem(new URL(realm), new URL(registry), creds);
  t.match(r('http://auth.example/token', REMOTE, true), /cleartext/);
  t.equal(r('http://auth.example/token', REMOTE, false), undefined, 'anonymous tokens may come over http');
  t.equal(r('https://auth.example/token', REMOTE, true), undefined);
  t.equal(r('http://auth.example/token', 'http://registry.example', true), undefined, 'an http registry has nothing to downgrade');
  t.equal(r('http://127.0.0.1:9/token', LOOPBACK, true), undefined);
  t.match(r('http://169.254.169.254/token', REMOTE, false), /link-local/);
  t.match(r('file:///token', REMOTE, false), /scheme/);
});

t.test('addressProblem and loopbackAllowed', async (t) => {
  t.equal(addressProblem('127.0.0.1', true), undefined);
  t.match(addressProblem('127.0.0.1', false), /loopback/);
  t.match(addressProblem('::1', false), /loopback/);
  t.match(addressProblem('169.254.169.254', true), /link-local/);
  t.match(addressProblem('::ffff:169.254.169.254', true), /link-local/);
  t.match(addressProblem('fd00:ec2::254', true), /metadata/);
  t.equal(addressProblem('93.184.216.34', false), undefined);
  t.equal(loopbackAllowed(new URL('https://REG.example:443/v2/x?y'), new URL('https://reg.example')), true, 'the registry itself (same origin)');
  t.equal(loopbackAllowed(new URL('https://reg.example:6379/'), new URL('https://reg.example')), false, 'its host name on another port: not the registry (DNS rebinding)');
  t.equal(loopbackAllowed(new URL('http://reg.example/'), new URL('https://reg.example')), false, 'another scheme');
  t.equal(loopbackAllowed(new URL('http://cdn.example/'), new URL('https://reg.example')), false);
  t.equal(loopbackAllowed(new URL('http://cdn.example/'), new URL('http://127.0.0.1:5000')), true);
});

t.test('guardedLookup refuses names resolving to forbidden addresses (fake hosts table, no connection)', async (t) => {
  const restore = installFakeDns({
    'meta.test': '169.254.169.254',
    'meta6.test': 'fd00:ec2::254',
    'mapped.test': '::ffff:169.254.169.254',
    'mixed.test': ['93.184.216.34', '169.254.169.254'],
    'lo.test': '127.0.0.1',
    'ok.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  });
  t.teardown(restore);
  const look = (name: string, allowLoopback: boolean, all: boolean) =>
    new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
      guardedLookup(allowLoopback)(name, { all }, (err, address) => resolve({ err, address })),
    );
  for (const all of [true, false]) {
    for (const name of ['meta.test', 'meta6.test', 'mapped.test']) {
      const r = await look(name, true, all);
      t.match(r.err, { name: 'UnsafeTarget', message: new RegExp(`${name} resolves to`) }, `${name} (all: ${all}) refused`);
    }
    t.match((await look('lo.test', false, all)).err, { name: 'UnsafeTarget', message: /loopback/ }, `lo.test refused for a remote registry (all: ${all})`);
    t.equal((await look('lo.test', true, all)).err, null, `lo.test allowed for a loopback registry (all: ${all})`);
    t.equal((await look('ok.test', false, all)).err, null, `ok.test allowed (all: ${all})`);
  }
  // every address a connection may try (all: true, Node's happy eyeballs) is judged; one bad one refuses the name
  t.match((await look('mixed.test', true, true)).err, { name: 'UnsafeTarget', message: /169\.254\.169\.254/ }, 'mixed answer refused');
  t.equal((await look('mixed.test', true, false)).err, null, 'single answer: only the first (public) address would be connected');
  t.match((await look('nowhere.test', true, true)).err, { code: 'ENOTFOUND' }, 'resolver errors pass through');
});

t.test('digestProblem: only sha256 / sha512, lowercase hex, exact length', async (t) => {
  const h64 = 'a'.repeat(64);
  const good = [`sha256:${h64}`, `sha256:${'0123456789abcdef'.repeat(4)}`, `sha512:${'b'.repeat(128)}`];
  for (const d of good) t.equal(digestProblem(d), undefined, d.slice(0, 20));
  const bad: unknown[] = [
    '',
    'sha256',
    'sha256:',
    ':' + h64,
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'a'.repeat(65)}`,
    `sha256:${'A'.repeat(64)}`,
    `SHA256:${h64}`,
    `sha256:${'g'.repeat(64)}`,
    'sha256:../../../../etc/passwd',
    `sha256:${'a'.repeat(56)}/../../x`,
    `sha256:${'a'.repeat(60)}?x=1`,
    `sha256:${h64}#`,
    `sha256:${h64}/`,
    `sha256:${h64}\n`,
    `sha256:%2e%2e${'a'.repeat(58)}`,
    `sha256:${'a'.repeat(32)}`, // the reference grammar allows >= 32 hex; ferry cannot verify a short one
    `sha384:${'c'.repeat(96)}`,
    `sha512:${'b'.repeat(64)}`,
    `md5:${'d'.repeat(32)}`,
    `blake3:${h64}`,
    `__proto__:${h64}`,
    `constructor:${h64}`,
    `sha256+b64u:${h64}`,
    42,
    null,
    undefined,
    { digest: `sha256:${h64}` },
  ];
  for (const d of bad) t.ok(digestProblem(d), `refused: ${JSON.stringify(d)?.slice(0, 40)}`);
});

t.test('repositoryProblem and tagProblem: the distribution grammar', async (t) => {
  const goodRepos = ['library/nginx', 'docker.io/library/nginx', 'localhost_5000/x', 'ipv6__z-z-1_5000/a', 'a/b/c/d', 'a--b', 'a.b', 'a_b', 'a__b', 'x0'];
  for (const r of goodRepos) t.equal(repositoryProblem(r), undefined, r);
  const badRepos = ['', '../etc', 'a/../b', 'a/./b', 'a//b', '/a', 'a/', 'A/b', 'a?b', 'a#b', 'a%2fb', 'a b', 'a___b', '.a', 'a.', '-a', 'a-', 'a..b', 'a\nb', 'a'.repeat(256)];
  for (const r of badRepos) t.ok(repositoryProblem(r), `refused: ${JSON.stringify(r).slice(0, 30)}`);
  const goodTags = ['latest', 'v1.2.3', '_x', 'A-b.c_d', 'a'.repeat(128)];
  for (const g of goodTags) t.equal(tagProblem(g), undefined, g.slice(0, 20));
  const badTags = ['', '.x', '-x', '../x', 'a/b', 'a?b', 'a#b', 'a:b', 'a b', 'a'.repeat(129), 'é'];
  for (const b of badTags) t.ok(tagProblem(b), `refused: ${JSON.stringify(b).slice(0, 30)}`);
});

t.test('URL builders: valid pieces in, typed error for anything else', async (t) => {
  const r = { host: 'reg.example', repository: 'demo/app' };
  const d = `sha256:${'e'.repeat(64)}`;
  t.equal(blobPath(r, d), `/v2/demo/app/blobs/${d}`);
  t.equal(manifestPath(r, 'v1'), '/v2/demo/app/manifests/v1');
  t.equal(manifestPath(r, d), `/v2/demo/app/manifests/${d}`);
  t.equal(uploadsPath(r), '/v2/demo/app/blobs/uploads/');
  t.equal(uploadsPath(r, { digest: d, from: 'other/app' }), `/v2/demo/app/blobs/uploads/?mount=${encodeURIComponent(d)}&from=other%2Fapp`);
  t.throws(() => blobPath(r, 'sha256:../../x?'), { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST', transient: false });
  t.throws(() => blobPath(r, 'md5:x', 'layer of sha256:abc'), { message: /digest from layer of sha256:abc refused/ });
  t.throws(() => manifestPath(r, 'sha256:..%2f..'), { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST' });
  t.throws(() => manifestPath(r, '../latest'), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
  t.throws(() => manifestPath({ host: 'reg.example', repository: 'demo/../admin' }, 'v1'), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
  t.throws(() => uploadsPath(r, { digest: d, from: '../x' }), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
});

t.test('descriptorShapeProblem: a byte size, nothing else', async (t) => {
  t.equal(descriptorShapeProblem({ digest: 'x', size: 0 }), undefined);
  t.equal(descriptorShapeProblem({ digest: 'x', size: 123 }), undefined);
  for (const d of [null, 'x', 3, { size: -1 }, { size: 1.5 }, { size: '12' }, { size: 2 ** 60 }, { size: Infinity }, {}]) {
    t.ok(descriptorShapeProblem(d), `refused: ${JSON.stringify(d)}`);
  }
});
