/**
 * criAuthFor: the AuthConfig a pull through the runtime carries for an image, from the same places
 * ferry's registry client reads (registries.<host> username/password, a docker config.json
 * credentialsFile, Docker Hub's aliases, registries["*"]). No runtime needed: a temp credentials file.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { criAuthFor } from '../../src/cri/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cri-auth-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerConfig = join(dir, 'config.json');
writeFileSync(
  dockerConfig,
  JSON.stringify({
    auths: {
      'mirror.example:5000': { auth: b64('node:s3cret:with-colon') },
      'https://index.docker.io/v1/': { auth: b64('hubuser:hubpw') },
      'token.example': { identitytoken: 'refresh-123' },
      'plain.example': { username: 'u', password: 'p' },
    },
  }),
);

const config = resolveConfig({
  mirror: { registry: 'mirror.example:5000' },
  registries: {
    '*': { credentialsFile: dockerConfig },
    'ghcr.io': { username: 'ferry', password: 'ghcr-pw' },
    'anon.example': { credentialsFile: '' },
  },
}).config;

t.test('credentials come from the same places as the registry client reads', async (t) => {
  t.same(await criAuthFor(config, 'mirror.example:5000/docker.io/library/nginx:1.27'), { username: 'node', password: 's3cret:with-colon' }, 'auths entry: base64 user:password, split at the first colon');
  t.same(await criAuthFor(config, 'ghcr.io/org/app:v1'), { username: 'ferry', password: 'ghcr-pw' }, 'registries.<host> username/password win');
  t.same(await criAuthFor(config, 'nginx:1.27'), { username: 'hubuser', password: 'hubpw' }, 'a familiar name is Docker Hub, found under its index.docker.io key');
  t.same(await criAuthFor(config, 'plain.example/a/b@sha256:' + 'a'.repeat(64)), { username: 'u', password: 'p' }, 'a digest reference');
});

t.test('an identity token goes alone: containerd would read a username first', async (t) => {
  t.same(await criAuthFor(config, 'token.example/app:v1'), { identityToken: 'refresh-123' });
});

t.test('no credentials: undefined (an anonymous pull)', async (t) => {
  t.equal(await criAuthFor(config, 'quay.io/org/app:v1'), undefined, 'a host the credentials file does not name');
  t.equal(await criAuthFor(config, 'anon.example/app:v1'), undefined, 'a host whose own entry turns the file off');
  const bare = resolveConfig({ mirror: { registry: 'mirror.example:5000' } }).config;
  t.equal(await criAuthFor(bare, 'mirror.example:5000/app:v1'), undefined, 'no registries config at all');
});

t.test('bad input is a clear error, not a crash', async (t) => {
  await t.rejects(criAuthFor(config, 'Not A Ref'), { code: /^FERRY_ERR_REFERENCE_/ });
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"auths": {"x": {"auth": "c2VjcmV0"}}');
  const bad = resolveConfig({ mirror: { registry: 'mirror.example:5000' }, registries: { 'x.example': { credentialsFile: broken } } }).config;
  const e = await criAuthFor(bad, 'x.example/app:v1').then(() => undefined, (err: Error) => err);
  t.match(e, { code: 'FERRY_ERR_REGISTRY_CREDENTIALS' }, 'an unreadable credentials file is the registry client\'s error');
  t.notMatch(String((e as Error).message), /c2VjcmV0/, 'and does not quote the file');
});
