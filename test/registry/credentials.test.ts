/**
 * Credentials the way platform engineers hand them over: a `registries["*"]`
 * default (one mounted dockerconfigjson for every registry), `identitytoken`
 * (OAuth refresh-token grant) and docker credential helpers (real shell
 * scripts on PATH), against real docker-registry processes and the
 * in-process token server.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import t from 'tap';
import type { RegistryConfig } from '../../src/config/types.js';
import { endpointFor, RegistryEngine } from '../../src/registry/index.js';
import { tokenRequest } from '../../src/registry/auth.js';
import { CredentialStore, registryConfigFor } from '../../src/registry/credentials.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, captureLogger, pushTestImages, testConfig, type TestImages, noSecrets } from './support/fixtures.js';
import { startTokenServer, type TokenServer } from './support/tokenserver.js';

const USER = 'alice';
const PASS = 's3cret-Pa55';
const creds = { username: USER, password: PASS };
const ID_TOKEN = 'idtok-7f3a9c1e-refresh';
const WRONG_ID_TOKEN = 'idtok-wrong-0b1d';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = [PASS, b64(`${USER}:${PASS}`), ID_TOKEN, WRONG_ID_TOKEN, 'eyJ'];

let upstream: TestRegistry;
let basic: TestRegistry;
let tokenReg: TestRegistry;
let ts: TokenServer;
let imgs: TestImages;
const tmp = mkdtempSync(join(tmpdir(), 'ferry-creds-'));
const bin = join(tmp, 'bin');
const helperLog = join(tmp, 'helper.log');
const savedPath = process.env.PATH;

/** Writes an executable `docker-credential-<name>` into the bin dir on PATH. */
function helper(name: string, body: string): void {
  const f = join(bin, `docker-credential-${name}`);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
}

/** Server URLs the ferrytest helper was asked about, one per run. */
const helperRuns = (): string[] => (existsSync(helperLog) ? readFileSync(helperLog, 'utf8').split('\n').filter(Boolean) : []);

function dockerConfig(name: string, doc: object): string {
  const f = join(tmp, name);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

t.before(async () => {
  const htpasswd = execFileSync('htpasswd', ['-Bbn', USER, PASS]).toString();
  ts = await startTokenServer({ users: { [USER]: PASS }, identityTokens: { [ID_TOKEN]: USER } });
  [upstream, basic, tokenReg] = await Promise.all([
    startRegistry(),
    startRegistry({ htpasswd }),
    startRegistry({ token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } }),
  ]);
  imgs = buildTestImages([40_000, 60_000]);
  await Promise.all([pushTestImages(imgs, upstream.host), pushTestImages(imgs, basic.host, 'demo/app', creds)]);
  execFileSync('mkdir', ['-p', bin]);
  helper(
    'ferrytest',
    `server=$(cat)
echo "$server" >> '${helperLog}'
case "$server" in
  '${basic.host}') printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASS}"}\\n' "$server" ;;
  '${tokenReg.host}') printf '{"ServerURL":"%s","Username":"<token>","Secret":"${ID_TOKEN}"}\\n' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
  helper('ferrynone', 'cat >/dev/null\necho "credentials not found in native keychain"\nexit 1');
  helper('ferrybad', 'cat >/dev/null\necho "Username: alice, and then some"');
  helper('ferryfail', 'cat >/dev/null\necho "keychain is locked" >&2\nexit 3');
  process.env.PATH = `${bin}${delimiter}${savedPath}`;
});
t.teardown(async () => {
  process.env.PATH = savedPath;
  await Promise.all([upstream?.stop(), basic?.stop(), tokenReg?.stop(), ts?.stop()]);
  imgs?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const errorTexts = (e: { message: string; hint?: string; toJSON(): object }) => [e.message, e.hint ?? '', JSON.stringify(e.toJSON())];

function engineWith(registries: Record<string, RegistryConfig>, logger = captureLogger().logger): RegistryEngine {
  const e = new RegistryEngine({ config: testConfig({ registries }), logger });
  t.teardown(() => e.close());
  return e;
}

t.test('registries["*"]: settings any host inherits field by field; endpoint and insecure only from its own entry', async (t) => {
  const c = testConfig({ registries: { '*': { credentialsFile: '/any.json', requestsPerSecond: 7 }, 'docker.io': { requestsPerSecond: 2 }, 'r.example': { username: 'u', password: 'p' } } });
  t.same(registryConfigFor(c, 'index.docker.io'), { credentialsFile: '/any.json', requestsPerSecond: 2 }, 'alias entry merged over *');
  t.same(registryConfigFor(c, 'ghcr.io'), { credentialsFile: '/any.json', requestsPerSecond: 7 }, 'no entry: *');
  t.same(await new CredentialStore(c).get('r.example'), { username: 'u', password: 'p', from: 'registries.r.example' }, "the host's username beats *'s file");
  t.equal(registryConfigFor(testConfig({ registries: { 'ghcr.io': { insecure: true } } }), 'quay.io'), undefined, 'no * entry: nothing');
  const forced = testConfig({ registries: { '*': { endpoint: 'http://127.0.0.1:1', insecure: true } } }); // refused by the config loader; ignored here anyway
  t.equal(endpointFor(forced, 'ghcr.io'), 'https://ghcr.io');
});

t.test('token requests: docker GET with Basic credentials, or the OAuth2 refresh-token grant', async (t) => {
  const ch = { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'reg' } };
  const scopes = ['repository:a/b:pull', 'repository:c/d:pull,push'];
  const url = new URL(ch.params.realm);
  const post = tokenRequest(url, ch, scopes, { username: '<token>', password: '', identityToken: ID_TOKEN });
  t.equal(post.method, 'POST');
  t.same(post.headers, { 'Content-Type': 'application/x-www-form-urlencoded' });
  t.equal(
    post.body?.toString(),
    `grant_type=refresh_token&service=reg&scope=repository%3Aa%2Fb%3Apull+repository%3Ac%2Fd%3Apull%2Cpush&client_id=ferry&refresh_token=${ID_TOKEN}`,
  );
  t.equal(url.search, '', 'nothing in the URL');
  const get = tokenRequest(url, ch, scopes, creds);
  t.equal(get.method, 'GET');
  t.equal(url.search, '?service=reg&scope=repository%3Aa%2Fb%3Apull&scope=repository%3Ac%2Fd%3Apull%2Cpush&account=alice');
  t.equal(get.headers.Authorization, `Basic ${b64(`${USER}:${PASS}`)}`);
});

t.test('registries["*"].credentialsFile authenticates Basic and token registries; a host entry wins', async (t) => {
  const file = dockerConfig('any.json', {
    auths: { [`http://${basic.host}`]: { auth: b64(`${USER}:${PASS}`) }, [tokenReg.host]: { username: USER, password: PASS } },
  });
  const cap = captureLogger();
  const engine = engineWith({ '*': { credentialsFile: file } }, cap.logger);
  t.equal((await engine.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'Basic registry');
  const before = ts.requests.length;
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/anyentry/app:v1` });
  t.equal(res.digest, imgs.amd64.digest);
  t.equal((await inspectRaw(`${tokenReg.host}/anyentry/app:v1`, creds))?.digest, imgs.amd64.digest, 'pushed to the token registry');
  t.ok(ts.requests.slice(before).every((r) => r.method === 'GET' && r.user === USER), 'token requests carried the file credentials');
  noSecrets(t, SECRETS, cap.lines);

  const merged = engineWith({ '*': { credentialsFile: file }, [basic.host]: { requestsPerSecond: 1000 } });
  t.equal((await merged.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'a host entry without credentials keeps the * file');

  const wrong = engineWith({ '*': { credentialsFile: file }, [basic.host]: { username: USER, password: 'nope' } });
  const err = await wrong.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED', "the host's own (wrong) credentials win over *");

  const own = engineWith({ '*': { credentialsFile: join(tmp, 'missing.json') }, [basic.host]: { ...creds } });
  t.equal((await own.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, "the host's own credentials, * never read");
  const broken = await own.resolveDigest(`${tokenReg.host}/anyentry/app:v1`).catch((e) => e);
  t.equal(broken.code, 'FERRY_ERR_REGISTRY_CREDENTIALS', 'an unreadable * file is a typed error for hosts that use it');
});

t.test('identitytoken: Bearer tokens come from the OAuth2 refresh-token grant', async (t) => {
  const file = dockerConfig('idtoken.json', {
    auths: { [tokenReg.host]: { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: ID_TOKEN } },
  });
  const cap = captureLogger();
  const engine = engineWith({ [tokenReg.host]: { credentialsFile: file } }, cap.logger);
  const before = ts.requests.length;
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/idt/app:v1` });
  const seen = ts.requests.slice(before);
  t.equal(res.digest, imgs.amd64.digest);
  t.equal((await inspectRaw(`${tokenReg.host}/idt/app:v1`, creds))?.digest, imgs.amd64.digest);
  t.ok(seen.length > 0);
  t.ok(seen.every((r) => r.method === 'POST' && r.grantType === 'refresh_token' && r.clientId === 'ferry' && r.user === USER), 'every token from a refresh_token POST');
  t.ok(seen.some((r) => r.scopes.includes('repository:idt/app:pull,push')), 'push scope asked');
  noSecrets(t, SECRETS, cap.lines);

  const bad = dockerConfig('idtoken-wrong.json', { auths: { [tokenReg.host]: { identitytoken: WRONG_ID_TOKEN } } });
  const cap2 = captureLogger();
  const wrong = engineWith({ [tokenReg.host]: { credentialsFile: bad } }, cap2.logger);
  const err = await wrong.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/idt/app:v2` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  t.equal(err.transient, false);
  noSecrets(t, SECRETS, [...cap2.lines, ...errorTexts(err)]);

  const basicFile = dockerConfig('idtoken-basic.json', { auths: { [basic.host]: { identitytoken: ID_TOKEN } } });
  const onBasic = engineWith({ [basic.host]: { credentialsFile: basicFile } });
  const err2 = await onBasic.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
  t.equal(err2.code, 'FERRY_ERR_REGISTRY_CREDENTIALS', 'an identity token cannot answer a Basic challenge');
  t.match(err2.message, /identity token.*Basic|Basic.*identity token/);
  t.match(err2.message, /username and password/);
  noSecrets(t, SECRETS, errorTexts(err2));
});

t.test('credential helpers: credHelpers per host, credsStore for the rest, <token> = identity token', async (t) => {
  const cap = captureLogger();
  const perHost = dockerConfig('helpers.json', { auths: { [basic.host]: { auth: b64(`${USER}:wrong`) } }, credHelpers: { [basic.host]: 'ferrytest' } });
  const e1 = engineWith({ '*': { credentialsFile: perHost } }, cap.logger);
  t.equal((await e1.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'credHelpers beats the inline auths entry');
  const anon = await e1.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/helper/app:v1` }).catch((e) => e);
  t.equal(anon.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED', 'no helper for the token registry: anonymous, push refused');

  const store = dockerConfig('store.json', { auths: { [basic.host]: {}, [tokenReg.host]: {} }, credsStore: 'ferrytest' });
  const e2 = engineWith({ '*': { credentialsFile: store } }, cap.logger);
  t.equal((await e2.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'credsStore, Basic');
  const before = ts.requests.length;
  const res = await e2.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${tokenReg.host}/helper/app:v1` });
  t.equal(res.digest, imgs.amd64.digest, 'credsStore, <token> -> refresh-token grant');
  t.ok(ts.requests.length > before && ts.requests.slice(before).every((r) => r.method === 'POST' && r.grantType === 'refresh_token' && r.user === USER));
  t.notOk(helperRuns().includes(upstream.host), 'no helper run for a registry that asks for no auth');

  const inline = dockerConfig('inline.json', { auths: { [basic.host]: { auth: b64(`${USER}:${PASS}`) } }, credsStore: 'ferrymissing' });
  const e3 = engineWith({ [basic.host]: { credentialsFile: inline } });
  t.equal((await e3.resolveDigest(`${basic.host}/demo/app:v1`))?.digest, imgs.amd64.digest, 'inline auths credentials beat credsStore');

  const none = engineWith({ '*': { credentialsFile: dockerConfig('none.json', { credsStore: 'ferrynone' }) } });
  t.equal((await none.copy({ src: `${tokenReg.host}/helper/app:v1`, dst: `${upstream.host}/fromhelper/app:v1` })).digest, imgs.amd64.digest, '"not found" = anonymous pull');
  const refused = await none.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
  t.equal(refused.code, 'FERRY_ERR_REGISTRY_UNAUTHORIZED');
  t.match(refused.message, /no credentials configured/);
  noSecrets(t, SECRETS, [...cap.lines, ...errorTexts(anon), ...errorTexts(refused)]);
});

t.test('credential helper failures are typed, permanent, name the helper and never the secret', async (t) => {
  const cases: [string, RegExp][] = [
    ['ferrymissing', /docker-credential-ferrymissing is not on PATH/],
    ['ferrybad', /docker-credential-ferrybad printed something that is not JSON/],
    ['ferryfail', /docker-credential-ferryfail exited with status 3: keychain is locked/],
  ];
  for (const [name, message] of cases) {
    const engine = engineWith({ '*': { credentialsFile: dockerConfig(`${name}.json`, { auths: { [basic.host]: {} }, credsStore: name }) } });
    const err = await engine.resolveDigest(`${basic.host}/demo/app:v1`).catch((e) => e);
    t.equal(err.code, 'FERRY_ERR_REGISTRY_CREDENTIAL_HELPER', name);
    t.equal(err.transient, false);
    t.match(err.message, message);
    t.match(err.message, basic.host);
    t.match(err.hint, /PATH.*custom image/);
    noSecrets(t, SECRETS, errorTexts(err));
  }
});

t.test('a helper runs once per host within its cache window; updateConfig and expiry ask again', async (t) => {
  const store = dockerConfig('store-count.json', { credsStore: 'ferrytest' });
  const config = testConfig({ registries: { '*': { credentialsFile: store } } });
  const runs = () => helperRuns().filter((h) => h === basic.host).length;
  const engine = engineWith({ '*': { credentialsFile: store } });
  const n0 = runs();
  await Promise.all([1, 2, 3].map(() => engine.resolveDigest(`${basic.host}/demo/app:v1`)));
  await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${basic.host}/counted/app:v1` });
  t.equal(runs(), n0 + 1, 'one run for concurrent and later requests');
  engine.updateConfig(config);
  await engine.resolveDigest(`${basic.host}/demo/app:v1`);
  t.equal(runs(), n0 + 2, 'updateConfig drops the cached answer');

  let now = 1_000_000;
  const credStore = new CredentialStore(config, { now: () => now });
  t.same(await credStore.get(basic.host), { username: USER, password: PASS, from: 'credential helper docker-credential-ferrytest' });
  now += 4 * 60_000;
  await credStore.get(basic.host);
  t.equal(runs(), n0 + 3, 'reused within 5 minutes');
  now += 2 * 60_000;
  await credStore.get(basic.host);
  t.equal(runs(), n0 + 4, 'asked again after 5 minutes');
  t.equal(await credStore.get('docker.io'), undefined, 'not found -> anonymous');
  t.equal(helperRuns().at(-1), 'https://index.docker.io/v1/', "Docker Hub is asked for under docker's server URL");
});
