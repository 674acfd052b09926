import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, captureLogger, pushTestImages, testConfig, type TestImages, noSecrets } from './support/fixtures.js';
import { startTokenServer, type TokenServer } from './support/tokenserver.js';

const USER = 'alice';
const PASS = 's3cret-Pa55';
const creds = { username: USER, password: PASS };
const SECRETS = [PASS, Buffer.from(`${USER}:${PASS}`).toString('base64'), 'eyJ'];

let upstream: TestRegistry;
let basic: TestRegistry;
let tokenReg: TestRegistry;
let ts: TokenServer;
let imgs: TestImages;
const tmp = mkdtempSync(join(tmpdir(), 'ferry-auth-'));

t.before(async () => {
  const htpasswd = execFileSync('htpasswd', ['-Bbn', USER, PASS]).toString();
  ts = await startTokenServer({ users: { [USER]: PASS } });
  [upstream, basic, tokenReg] = await Promise.all([
    startRegistry(),
    startRegistry({ htpasswd }),
    startRegistry({ token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } }),
  ]);
  imgs = buildTestImages([40_000, 60_000]);
  await pushTestImages(imgs, upstream.host);
});
t.teardown(async () => {
  await Promise.all([upstream?.stop(), basic?.stop(), tokenReg?.stop(), ts?.stop()]);
  imgs?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

t.test('Basic: credentials from config', async (t) => {
  const cap = captureLogger();
  const engine = new RegistryEngine({ config: testConfig({ registries: { [basic.host]: { ...creds } } }), logger: cap.logger });
  t.teardown(() => engine.close());
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${basic.host}/demo/app:v1` });
  t.equal((await inspectRaw(`${basic.host}/demo/app:v1`, creds))?.digest, imgs.amd64.digest);
  t.equal(res.blobsCopied, 3);
  // and as a source
  const back = await engine.copy({ src: `${basic.host}/demo/app:v1`, dst: `${upstream.host}/back/app:v1` });
  t.equal(back.digest, imgs.amd64.digest);
  t.ok(cap.lines.length > 5);
  noSecrets(t, SECRETS, cap.lines);
});

t.test('Basic: no or wrong credentials -> UNAUTHORIZED, permanent, no secret in the error', async (t) => {
  const anon = new RegistryEngine({ config: testConfig() });
  t.teardown(() => anon.close());
  const err = await anon.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${basic.host}/anon/app:v1` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  t.equal(err.transient, false);
  t.match(err.message, basic.host);
  t.match(err.hint, `registries.${basic.host}`);
  const wrong = new RegistryEngine({ config: testConfig({ registries: { [basic.host]: { username: USER, password: 'nope' } } }) });
  t.teardown(() => wrong.close());
  const err2 = await wrong.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
  t.equal(err2.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  noSecrets(t, SECRETS, [JSON.stringify(err2.toJSON()), err2.message, JSON.stringify(err.toJSON())]);
});

t.test('Basic: docker config.json credentialsFile (auth and username/password forms)', async (t) => {
  const f1 = join(tmp, 'config1.json');
  writeFileSync(f1, JSON.stringify({ auths: { [`http://${basic.host}`]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
  const f2 = join(tmp, 'config2.json');
  writeFileSync(f2, JSON.stringify({ auths: { [basic.host]: { username: USER, password: PASS } } }));
  for (const f of [f1, f2]) {
    const engine = new RegistryEngine({ config: testConfig({ registries: { [basic.host]: { credentialsFile: f } } }) });
    const r = await engine.resolveDigest(`${basic.host}/demo/app:v1`);
    t.equal(r?.digest, imgs.amd64.digest, f);
    await engine.close();
  }
  const engine = new RegistryEngine({ config: testConfig({ registries: { [basic.host]: { credentialsFile: join(tmp, 'missing.json') } } }) });
  const err = await engine.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_CREDENTIALS');
  // hot reload fixes it
  engine.updateConfig(testConfig({ registries: { [basic.host]: { credentialsFile: f1 } } }));
  t.equal((await engine.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'updateConfig picked up new credentials');
  await engine.close();
});

t.test('Bearer: push with credentials, token cached, cross-repo mount asks both scopes', async (t) => {
  const cap = captureLogger();
  const engine = new RegistryEngine({ config: testConfig({ registries: { [tokenReg.host]: { ...creds } } }), logger: cap.logger });
  t.teardown(() => engine.close());
  ts.requests.length = 0;
  const res = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${tokenReg.host}/demo/app:multi`, platforms: [] });
  t.equal((await inspectRaw(`${tokenReg.host}/demo/app:multi`, creds))?.digest, imgs.index.digest);
  t.equal(res.blobsCopied, 9);
  t.ok(ts.requests.every((r) => r.account === USER && r.user === USER), 'token requests authenticated');
  t.ok(ts.requests.some((r) => r.scopes.includes('repository:demo/app:pull,push')), 'push scope asked');
  const n = ts.requests.length;
  t.ok(n <= 3, `few token requests (${n})`);
  const again = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${tokenReg.host}/demo/app:multi`, platforms: [] });
  t.equal(again.upToDate, true);
  t.equal(ts.requests.length, n, 'cached token reused');
  const mnt = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/other/app:v1` });
  t.equal(mnt.blobsMounted, 3);
  t.ok(
    ts.requests.some((r) => r.scopes.includes('repository:demo/app:pull') && r.scopes.includes('repository:other/app:pull,push')),
    'mount token carries both scopes',
  );
  noSecrets(t, SECRETS, cap.lines);
});

t.test('Bearer: anonymous pull works, anonymous push is refused', async (t) => {
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  // other/app:v1 was pushed (mounted) by the previous test
  const r = await engine.copy({ src: `${tokenReg.host}/other/app:v1`, dst: `${upstream.host}/fromtoken/app:v1` });
  t.equal(r.digest, imgs.amd64.digest);
  t.equal(r.blobsCopied, 3);
  t.ok(ts.requests.some((x) => x.user === null), 'anonymous token requested');
  const err = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/anon/app:v1` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  t.equal(err.transient, false);
});

t.test('Bearer: refresh on insufficient_scope and on expiry', async (t) => {
  const engine = new RegistryEngine({ config: testConfig({ registries: { [tokenReg.host]: { ...creds } } }) });
  t.teardown(() => engine.close());
  ts.stingy = 1; // the first token grants nothing -> 401 insufficient_scope -> engine asks again
  const before = ts.requests.length;
  const r = await engine.resolveDigest(`${tokenReg.host}/other/app:v1`);
  t.equal(r?.digest, imgs.amd64.digest);
  t.equal(ts.requests.length - before, 2, 'token fetched again after 401');
  ts.expiresIn = 1;
  const e2 = new RegistryEngine({ config: testConfig({ registries: { [tokenReg.host]: { ...creds } } }) });
  t.teardown(() => e2.close());
  await e2.resolveDigest(`${tokenReg.host}/other/app:v1`);
  const n = ts.requests.length;
  await new Promise((r) => setTimeout(r, 1100));
  t.equal((await e2.resolveDigest(`${tokenReg.host}/other/app:v1`))?.digest, imgs.amd64.digest);
  t.equal(ts.requests.length, n + 1, 'expired token replaced');
  ts.expiresIn = 300;
});
