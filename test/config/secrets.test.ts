import t from 'tap';
import { Writable } from 'node:stream';
import { CONFIG_SCHEMA, DEFAULTS, maskSecrets, NOT_SECRET_CONFIG_PATHS, resolveConfig, SECRET_CONFIG_PATHS, type FerryConfig } from '../../src/config/index.js';
import { SECRET_LOOKING_KEY } from '../../src/config/secrets.js';
import { describeError, FerryError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/index.js';
import { redactRedisUrl } from '../../src/queue/index.js';
import { redactSecretsInText, redactUrlCredentials } from '../../src/redact.js';

/** Every key path the schema describes (`*` for record values and list items). */
function schemaPaths(node: any, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return out;
  for (const [k, v] of Object.entries<any>(node.properties ?? {})) {
    out.add([...prefix, k].join('.'));
    schemaPaths(v, [...prefix, k], out);
  }
  if (node.additionalProperties && typeof node.additionalProperties === 'object') schemaPaths(node.additionalProperties, [...prefix, '*'], out);
  if (node.items && typeof node.items === 'object') schemaPaths(node.items, [...prefix, '*'], out);
  return out;
}

/** Every key path of DEFAULTS (lists and records contribute their items as `*`). */
function defaultPaths(node: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((x) => defaultPaths(x, [...prefix, '*'], out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      out.add([...prefix, k].join('.'));
      defaultPaths(v, [...prefix, k], out);
    }
  }
  return out;
}

t.test('every config key whose name looks secret is listed as secret or as reviewed-not-secret', async (t) => {
  const listed = new Set([...SECRET_CONFIG_PATHS.map((s) => s.path), ...Object.keys(NOT_SECRET_CONFIG_PATHS)]);
  const all = new Set([...schemaPaths(CONFIG_SCHEMA), ...defaultPaths(DEFAULTS)]);
  t.ok(all.has('registries.*.password') && all.has('hooks.secret') && all.has('dashboard.token'), 'the walk reaches records and new sections');
  const looksSecret = [...all].filter((p) => SECRET_LOOKING_KEY.test(p.split('.').pop()!));
  t.ok(looksSecret.length >= 6, `the net catches the known ones: ${looksSecret.join(', ')}`);
  for (const p of looksSecret) {
    t.ok(listed.has(p), `${p} looks like a credential: add it to SECRET_CONFIG_PATHS (src/config/secrets.ts), or to NOT_SECRET_CONFIG_PATHS with the reason`);
  }
  for (const p of listed) t.ok(all.has(p), `${p} (listed in src/config/secrets.ts) still exists in the schema`);
  // the net itself: names a future key might have
  for (const name of ['password', 'apiKey', 'privateKey', 'clientSecret', 'accessToken', 'keyPem', 'signingKey', 'auth', 'bearerToken', 'key', 'keys']) {
    t.match(name, SECRET_LOOKING_KEY, `"${name}" would be caught`);
  }
  for (const name of ['keep', 'registry', 'prefix', 'bodyLimit', 'namespaces', 'pinDigest', 'stableMs']) {
    t.notMatch(name, SECRET_LOOKING_KEY, `"${name}" is not a secret name`);
  }
});

function configWithSecrets(): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.registries = {
    'ghcr.io': { username: 'bot', password: 'pw-ghcr', endpoint: 'https://bot:pw-endpoint@ghcr.example' },
    '*': { credentialsFile: '/etc/ferry/config.json', password: 'pw-any' } as never,
    'quay.io': { username: 'empty', password: '' },
  };
  c.queue.redisUrl = 'redis://ferry:pw-redis@redis.internal:6380/2';
  c.dashboard.token = 'tok-dash';
  c.hooks.secret = 'sec-hooks';
  c.block = [{ pattern: 'docker.io/x*', reason: 'see https://u:pw-reason@wiki/x?sig=pw-sig' }];
  return c;
}

t.test('maskSecrets: every credential masked, usernames/hosts kept, empty stays empty, input untouched', async (t) => {
  const c = configWithSecrets();
  const before = JSON.stringify(c);
  const m = maskSecrets(c);
  t.equal(JSON.stringify(c), before, 'the input is not modified');
  t.same(m.registries['ghcr.io'], { username: 'bot', password: '***', endpoint: 'https://bot:***@ghcr.example' });
  t.equal(m.registries['*']!.password, '***', 'the "*" entry too, even where the loader would refuse it');
  t.equal(m.registries['*']!.credentialsFile, '/etc/ferry/config.json', 'a path is shown');
  t.equal(m.registries['quay.io']!.password, '', 'an unset secret stays visibly unset');
  t.equal(m.queue.redisUrl, 'redis://ferry:***@redis.internal:6380/2');
  t.equal(m.dashboard.token, '***');
  t.equal(m.hooks.secret, '***');
  t.equal(m.block[0]!.reason, 'see https://u:***@wiki/x?sig=***', 'free text is swept too');
  const out = JSON.stringify(m);
  for (const s of ['pw-ghcr', 'pw-endpoint', 'pw-any', 'pw-redis', 'tok-dash', 'sec-hooks', 'pw-reason', 'pw-sig']) t.notOk(out.includes(s), `no ${s}`);
  t.same(maskSecrets(DEFAULTS), DEFAULTS, 'the defaults hold no secret: masking changes nothing');
});

t.test('redis URLs: one masking function for every form ferry accepts', async (t) => {
  t.equal(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  t.equal(redactRedisUrl('redis://:pw@127.0.0.1:6379'), 'redis://:***@127.0.0.1:6379');
  t.equal(redactRedisUrl('rediss://user:pw@h:6380/1'), 'rediss://user:***@h:6380/1');
  t.equal(redactRedisUrl('redis://:p@ss@h:1'), 'redis://:***@h:1', 'an unencoded @ in the password');
  t.equal(redactRedisUrl('redis+sentinel://pw@s1:26379,s2:26379/mymaster'), 'redis+sentinel://***@s1:26379,s2:26379/mymaster');
  t.equal(redactUrlCredentials('not a url'), 'not a url');
  t.equal(resolveConfig({}, { FERRY_QUEUE_REDIS_URL: 'redis+sentinel://pw-x@s1:1' }).config.queue.redisUrl, 'redis+sentinel://pw-x@s1:1', 'masking never touches the config in use');
});

t.test('redactSecretsInText: credentials inside messages, the rest readable', async (t) => {
  const cases: [string, string][] = [
    ['connect to redis://:pw1@127.0.0.1:6379 failed', 'connect to redis://:***@127.0.0.1:6379 failed'],
    ['GET https://bot:pw2@ghcr.io/v2/ (ECONNREFUSED)', 'GET https://bot:***@ghcr.io/v2/ (ECONNREFUSED)'],
    ['https://tok3@github.com/x', 'https://***@github.com/x'],
    ['PUT http://r/v2/a/blobs/uploads/u?_state=abc&digest=sha256:1', 'PUT http://r/v2/a/blobs/uploads/u?_state=***&digest=sha256:1'],
    ['https://s3/x?X-Amz-Signature=ff&X-Amz-Credential=AK&n=1', 'https://s3/x?X-Amz-Signature=***&X-Amz-Credential=***&n=1'],
    ['Authorization: Bearer abc.def', 'Authorization: Bearer ***'],
    ['{"authorization":"Basic YTpi"}', '{"authorization":"Basic ***"}'],
    [`sent Bearer ${'x'.repeat(24)}`, 'sent Bearer ***'],
    [`Basic ${Buffer.from('alice:pw4').toString('base64')} refused`, 'Basic *** refused'],
    ['token eyJhbGciOi.eyJzdWIiOi.c2ln end', 'token *** end'],
  ];
  for (const [input, want] of cases) t.equal(redactSecretsInText(input), want, input);
  for (const keep of [
    'the registry asks for Basic auth, but the credentials are an identity token',
    'Bearer challenge without realm',
    'docker.io/library/nginx@sha256:abc',
    'ping /v2/: HTTP 401 UNAUTHORIZED — no credentials configured',
    'watch.0.schedule: invalid cron "*/15 * * *"',
    'POST /hooks/registry with Authorization: Bearer <hooks.secret>',
  ]) {
    t.equal(redactSecretsInText(keep), keep, `unchanged: ${keep}`);
  }
});

t.test('errors: FerryError messages and describeError never carry URL credentials', async (t) => {
  const e = new FerryError('FERRY_ERR_TEST', 'cannot reach https://u:pw5@h/x', { hint: 'check redis://:pw6@h' });
  t.equal(e.message, 'cannot reach https://u:***@h/x');
  t.equal(e.hint, 'check redis://:***@h');
  t.notMatch(JSON.stringify(e.toJSON()), /pw5|pw6/);
  t.equal(describeError(new Error('getaddrinfo ENOTFOUND for redis://:pw7@nowhere')), 'getaddrinfo ENOTFOUND for redis://:***@nowhere');
  t.equal(describeError('rediss://a:pw8@b'), 'rediss://a:***@b');
});

t.test('logger: paths, secret keys at any depth, URLs in messages and fields, errors, bindings', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('trace', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const child = logger.child({ upstream: 'https://u:pw-bind@h' });
  child.info({ redis: 'redis://:pw-field@h:1', nested: { deeper: { creds: { password: 'pw-deep', identityToken: 'id-deep' } } } }, 'up on redis://:pw-msg@h:1');
  child.warn({ config: configWithSecrets() }, 'config');
  child.error(new Error('boom https://u:pw-err@h'));
  child.error({ err: new FerryError('FERRY_ERR_X', 'x', { cause: new Error('cause https://u:pw-cause@h') }) }, 'failed');
  child.debug({ headers: { Authorization: 'Bearer pw-header' } }, 'req %s', 'https://u:pw-arg@h');
  const all = lines.join('');
  t.equal(lines.length, 5);
  for (const s of ['pw-bind', 'pw-field', 'pw-deep', 'id-deep', 'pw-msg', 'pw-ghcr', 'pw-any', 'pw-redis', 'tok-dash', 'sec-hooks', 'pw-err', 'pw-cause', 'pw-header', 'pw-arg']) {
    t.notOk(all.includes(s), `no ${s} in the log`);
  }
  const first = JSON.parse(lines[0]!);
  t.equal(first.msg, 'up on redis://:***@h:1');
  t.equal(first.redis, 'redis://:***@h:1');
  t.equal(first.upstream, 'https://u:***@h', 'child bindings');
  t.equal(first.nested.deeper.creds.password, '[redacted]');
  const err = JSON.parse(lines[2]!);
  t.equal(err.msg, 'boom https://u:***@h', 'an Error logged alone keeps its message as msg');
  t.equal(err.err.type, 'Error');
  t.match(err.err.stack, /boom https:\/\/u:\*\*\*@h/);
  t.equal(JSON.parse(lines[4]!).msg, 'req https://u:***@h');
});
