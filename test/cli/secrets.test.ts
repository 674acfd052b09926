/**
 * No credential ever reaches output. Distinct secrets are planted in a config
 * file, a docker config.json and FERRY_* env overrides; the real CLI runs at
 * log.level trace (check-config, `ferry all` up to a mirrored image and a bad
 * hot reload, `ferry copy` through htpasswd and token auth, failures, invalid
 * configs), and every byte it writes is searched for every secret and its
 * base64 forms, next to assertions that the output says something real.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, pushTestImages, type TestImages } from '../registry/support/fixtures.js';
import { startTokenServer, type TokenServer } from '../registry/support/tokenserver.js';
import { cleanEnv, runFerry, startFerry, startPasswordRedis, type PasswordRedis } from './support/ferry-process.js';

const tag = randomBytes(4).toString('hex');
const S = {
  registryPw: `s3cr3t-registry-pw-${tag}`,
  authPw: `s3cr3t-auth-pw-${tag}`,
  identityToken: `s3cr3t-identity-token-${tag}`,
  tokenUserPw: `s3cr3t-token-user-pw-${tag}`,
  wrongPw: `s3cr3t-wrong-pw-${tag}`,
  // short: V8's JSON.parse errors quote 10 characters of the text after the error
  brokenFileSecret: `Zq${tag}`,
  fileRedisPw: `s3cr3t-redis-file-${tag}`,
  envRedisPw: `s3cr3t-redis-env-${tag}`,
  fileDashboard: `s3cr3t-dashboard-file-${tag}`,
  envDashboard: `s3cr3t-dashboard-env-${tag}`,
  fileHooks: `s3cr3t-hooks-file-${tag}`,
  envHooks: `s3cr3t-hooks-env-${tag}`,
};
const b64 = (s: string) => Buffer.from(s).toString('base64');
const authField = b64(`dave:${S.authPw}`);
/** Each secret, its base64 form, and every user:password pair as a Basic header would carry it. */
const FORBIDDEN = [
  ...Object.values(S),
  ...Object.values(S).map(b64),
  authField,
  b64(`alice:${S.registryPw}`),
  b64(`alice:${S.wrongPw}`),
  b64(`bob:${S.wrongPw}`),
  b64(`bob:${S.tokenUserPw}`),
];
/** A JWT (what the token server hands out as Bearer tokens). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\./;

function assertNoSecrets(t: Test, what: string, output: string): void {
  t.ok(output.length > 0, `${what}: wrote something`);
  const leaked = FORBIDDEN.filter((s) => output.includes(s));
  t.same(leaked, [], `${what}: no planted secret (or its base64) in ${output.length} bytes of output`);
  t.notMatch(output, JWT, `${what}: no bearer token`);
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-secrets-'));
let upstream: TestRegistry, basicA: TestRegistry, basicB: TestRegistry, tokenReg: TestRegistry;
let ts: TokenServer;
let imgs: TestImages;
let redisFile: PasswordRedis, redisEnv: PasswordRedis;
let dockerConfig: string;

t.before(async () => {
  ts = await startTokenServer({ users: { bob: S.tokenUserPw }, identityTokens: { [S.identityToken]: 'carol' }, anonymousPull: false });
  const htpasswd = (user: string, pw: string) => execFileSync('htpasswd', ['-Bbn', user, pw]).toString();
  [upstream, basicA, basicB, tokenReg, redisFile, redisEnv] = await Promise.all([
    startRegistry(),
    startRegistry({ htpasswd: htpasswd('alice', S.registryPw) }),
    startRegistry({ htpasswd: htpasswd('dave', S.authPw) }),
    startRegistry({ token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } }),
    startPasswordRedis(S.fileRedisPw),
    startPasswordRedis(S.envRedisPw),
  ]);
  imgs = buildTestImages([20_000, 30_000]);
  await pushTestImages(imgs, upstream.host);
  mkdirSync(join(dir, 'images'));
  dockerConfig = join(dir, 'docker-config.json');
  writeFileSync(dockerConfig, JSON.stringify({ auths: { [basicB.host]: { auth: authField }, [tokenReg.host]: { identitytoken: S.identityToken } } }));
});
t.teardown(async () => {
  await Promise.all([upstream, basicA, basicB, tokenReg, ts, redisFile, redisEnv].map((x) => x?.stop()));
  imgs?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The config file: a secret in every key that holds one. YAML is a superset of JSON. */
function fileConfig(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    log: { level: 'trace' },
    mirror: { registry: basicA.host, insecure: true },
    registries: { [basicA.host]: { username: 'alice', password: S.registryPw }, '*': { credentialsFile: dockerConfig } },
    queue: { redisUrl: `redis://:${S.fileRedisPw}@127.0.0.1:${redisFile.port}` },
    webhook: { port: 0, host: '127.0.0.1' },
    dashboard: { port: 0, host: '127.0.0.1', token: S.fileDashboard },
    hooks: { secret: S.fileHooks },
    import: { dir: join(dir, 'images') },
    ...over,
  };
}
function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}
const envOverrides = () => ({
  FERRY_DASHBOARD_TOKEN: S.envDashboard,
  FERRY_HOOKS_SECRET: S.envHooks,
  FERRY_QUEUE_REDIS_URL: `redis://default:${S.envRedisPw}@127.0.0.1:${redisEnv.port}`,
});

t.test('check-config: the effective config with every credential as ***, hosts and users kept', async (t) => {
  const file = writeConfig('ferry.yaml', fileConfig());
  const r = await runFerry(['check-config', '--config', file], cleanEnv());
  t.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout);
  t.same(shown.registries[basicA.host], { username: 'alice', password: '***' });
  t.equal(shown.registries['*'].credentialsFile, dockerConfig, 'the credentials file is named, not read out');
  t.equal(shown.queue.redisUrl, `redis://:***@127.0.0.1:${redisFile.port}`);
  t.equal(shown.dashboard.token, '***');
  t.equal(shown.hooks.secret, '***');
  t.match(r.stdout, /"password": "\*\*\*"/);
  assertNoSecrets(t, 'check-config', r.stdout + r.stderr);

  const env = await runFerry(['check-config', '--config', file], cleanEnv(envOverrides()));
  t.equal(env.code, 0, env.stderr);
  const withEnv = JSON.parse(env.stdout);
  t.equal(withEnv.queue.redisUrl, `redis://default:***@127.0.0.1:${redisEnv.port}`, 'the env override wins, its password masked');
  t.equal(withEnv.dashboard.token, '***');
  t.equal(withEnv.hooks.secret, '***');
  assertNoSecrets(t, 'check-config with FERRY_* overrides', env.stdout + env.stderr);

  const unset = await runFerry(['check-config'], cleanEnv());
  t.equal(JSON.parse(unset.stdout).dashboard.token, '', 'an unset secret stays visibly empty');
});

t.test('an invalid config holding secrets is refused without echoing them', async (t) => {
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['bad rewrite.mode', ['check-config', '--config', writeConfig('bad-mode.yaml', fileConfig({ rewrite: { mode: 'sometimes' } }))], cleanEnv(envOverrides()), /rewrite\.mode: must be one of/],
    [
      'a password on registries."*"',
      ['worker', '--config', writeConfig('bad-any.yaml', fileConfig({ registries: { '*': { credentialsFile: dockerConfig, password: S.registryPw } } }))],
      cleanEnv(),
      /registries\.\*\.password: not allowed/,
    ],
    [
      'bad env values next to secret ones',
      ['worker', '--config', writeConfig('ok.yaml', fileConfig())],
      cleanEnv({ ...envOverrides(), FERRY_QUEUE_REDIS_URL: `http://:${S.envRedisPw}@127.0.0.1:1`, FERRY_DASHBOARD_PORT: 'eighty' }),
      /queue\.redisUrl: must match pattern/,
    ],
    ['YAML syntax error on a secret line', ['check-config', '--config', writeConfig('broken.yaml', `dashboard: { token: "${S.fileDashboard}" ]\nhooks: { secret: ${S.fileHooks} }\n`)], cleanEnv(), /YAML syntax/],
  ];
  for (const [what, args, env, problem] of cases) {
    const r = await runFerry(args, env);
    t.equal(r.code, 2, `${what}: refused`);
    t.match(r.stderr, /invalid configuration/, what);
    t.match(r.stderr, problem, what);
    assertNoSecrets(t, what, r.stdout + r.stderr);
  }
});

t.test('ferry worker at trace on the config file\'s password-protected redis', async (t) => {
  const file = writeConfig('worker.yaml', fileConfig());
  const ferry = startFerry(['worker', '--config', file], cleanEnv());
  t.teardown(() => ferry.child.kill('SIGKILL'));
  const up = await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"');
  t.equal(up.redis, `redis://:***@127.0.0.1:${redisFile.port}`);
  // the redis check is a PING, answered only after AUTH with the file's password (the worker's own check may still be starting)
  const ready = await fetch(`${up.ops}/readyz`);
  t.match(await ready.json(), { checks: { redis: { ok: true } } }, 'authenticated to redis with the file\'s password');
  t.equal(await ferry.stop(), 0, 'clean exit on SIGTERM');
  assertNoSecrets(t, 'ferry worker', ferry.output());
});

t.test('ferry all at trace: up, a copy into the password-protected mirror, a bad reload, SIGTERM — no secret logged', async (t) => {
  const file = writeConfig('all.yaml', fileConfig());
  const ferry = startFerry(['all', '--config', file], cleanEnv({ ...envOverrides(), FERRY_STATE_DIR: join(dir, 'state') }));
  t.teardown(() => ferry.child.kill('SIGKILL'));
  const up = await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"');
  t.equal(up.redis, `redis://default:***@127.0.0.1:${redisEnv.port}`, 'the up line names the redis it uses, password masked');
  t.match(up.msg, `redis redis://default:***@127.0.0.1:${redisEnv.port}`);

  const ref = `${upstream.host}/demo/app:v1`;
  const post = (token?: string) =>
    fetch(`${up.dashboard}/api/images`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ ref }),
    });
  t.equal((await post(S.fileDashboard)).status, 401, 'the file token was overridden by FERRY_DASHBOARD_TOKEN');
  t.equal((await post(S.envDashboard)).status, 202, 'the env token is the one in force');
  const mirrored = await ferry.waitForLog((l) => l.msg === 'image mirrored', 'the copy into the mirror');
  t.equal(mirrored.digest, imgs.amd64.digest, 'the worker pushed with registries.<mirror>.password');
  t.ok(ferry.logs.some((l) => l.msg === 'registry request' && l.host === basicA.host), 'trace logs show the authenticated mirror requests');

  writeFileSync(file, JSON.stringify(fileConfig({ queue: { redisUrl: `redis://:${S.fileRedisPw}@127.0.0.1:${redisFile.port}`, concurrency: 0 } })));
  const refused = await ferry.waitForLog((l) => /new config is invalid/.test(l.msg), 'the refused reload');
  t.match(refused.problems, /queue\.concurrency/);

  t.equal(await ferry.stop(), 0, 'clean exit on SIGTERM');
  t.ok(ferry.logs.some((l) => l.msg === 'stopped'));
  assertNoSecrets(t, 'ferry all', ferry.output());
});

t.test('ferry copy at trace through Basic and token auth: the credentials are used, never shown', async (t) => {
  const config = writeConfig('copy.yaml', fileConfig());
  const env = cleanEnv();
  const copies: [string, string][] = [
    ['registries.<host>.password (htpasswd)', `${basicA.host}/copy/a:v1`],
    ['"*" credentialsFile auth (htpasswd)', `${basicB.host}/copy/b:v1`],
    ['"*" credentialsFile identitytoken (token server)', `${tokenReg.host}/copy/c:v1`],
  ];
  for (const [what, dst] of copies) {
    const r = await runFerry(['copy', '--config', config, `${upstream.host}/demo/app:v1`, dst], env);
    t.equal(r.code, 0, `${what}: ${r.stderr.slice(-2000)}`);
    t.equal(JSON.parse(r.stdout).digest, imgs.amd64.digest, `${what}: copied`);
    t.match(r.stderr, /"msg":"registry request"/, `${what}: trace lines on stderr`);
    assertNoSecrets(t, `copy via ${what}`, r.stdout + r.stderr);
  }
  t.ok(ts.requests.some((q) => q.method === 'POST' && q.grantType === 'refresh_token' && q.user === 'carol'), 'the identity token was exchanged for Bearer tokens');

  const failures: [string, Record<string, unknown>, string, RegExp][] = [
    ['wrong password (htpasswd)', { [basicA.host]: { username: 'alice', password: S.wrongPw } }, `${basicA.host}/copy/x:v1`, /FERRY_ERR_REGISTRY_UNAUTHORIZED/],
    ['wrong password (token server)', { [tokenReg.host]: { username: 'bob', password: S.wrongPw } }, `${tokenReg.host}/copy/x:v1`, /FERRY_ERR_REGISTRY_UNAUTHORIZED/],
    ['a credentials file that is not JSON', { '*': { credentialsFile: writeConfig('broken-docker.json', `{"auths": {"${basicB.host}": {"auth": ${S.brokenFileSecret}"}}}`) } }, `${basicB.host}/copy/x:v1`, /FERRY_ERR_REGISTRY_CREDENTIALS: .*not JSON/],
  ];
  for (const [what, registries, dst, expected] of failures) {
    const r = await runFerry(['copy', '--config', writeConfig('copy-fail.yaml', fileConfig({ registries })), `${upstream.host}/demo/app:v1`, dst], env);
    t.equal(r.code, 1, what);
    t.match(r.stderr, expected, what);
    assertNoSecrets(t, `failing copy: ${what}`, r.stdout + r.stderr);
  }
});
