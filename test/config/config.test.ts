import t from 'tap';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, envOverrideNames, loadConfig, resolveConfig, watchConfigFile, type LoadedConfig } from '../../src/config/index.js';
import { FerryError } from '../../src/errors.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof FerryError && e.code === 'FERRY_ERR_CONFIG_INVALID') return (e.details?.problems as string[]) ?? [];
    throw e;
  }
  return [];
}

t.test('no file, no env: the embedded defaults (SPEC values)', async (t) => {
  const { config, explicit } = loadConfig(undefined, {});
  t.same(config, DEFAULTS);
  t.equal(config.mirror.registry, '127.0.0.1:5000');
  t.equal(config.rewrite.mode, 'mirrored');
  t.equal(config.queue.backoff.maxMs, 600_000);
  t.equal(config.webhook.port, 8443);
  t.equal(config.dashboard.port, 8080);
  t.equal(explicit.size, 0);
});

t.test('a YAML file merges over defaults; lists replace, maps merge', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cfg-'));
  const file = join(dir, 'ferry.yaml');
  writeFileSync(
    file,
    `mirror: { registry: mirror.local:5000, prefix: cache }
rewrite: { mode: enforce, include: ["docker.io/**"], namespaces: { dev: always } }
queue: { concurrency: 16 }
block:
  - { pattern: "docker.io/library/bad*", reason: "CVE-1" }
  - { digest: "sha256:${'a'.repeat(64)}", reason: "tampered" }
watch:
  - { image: docker.io/library/nginx, strategy: semver, constraint: "^1.27", schedule: "*/15 * * * *", keep: 3 }
`,
  );
  const { config, explicit } = loadConfig(file, {});
  t.equal(config.mirror.registry, 'mirror.local:5000');
  t.equal(config.mirror.insecure, true, 'unset keys keep defaults');
  t.same(config.rewrite.include, ['docker.io/**']);
  t.same(config.rewrite.namespaces, { 'kube-system': 'off', dev: 'always' });
  t.equal(config.queue.concurrency, 16);
  t.equal(config.queue.maxAttempts, 8);
  t.equal(config.block.length, 2);
  t.ok(explicit.has('mirror.registry'));
  t.notOk(explicit.has('queue.redisUrl'));
});

t.test('FERRY_* env overrides, typed by the defaults', async (t) => {
  const names = envOverrideNames();
  t.same(names.get('FERRY_QUEUE_REDIS_URL'), ['queue', 'redisUrl']);
  t.same(names.get('FERRY_QUEUE_BACKOFF_INITIAL_MS'), ['queue', 'backoff', 'initialMs']);
  t.same(names.get('FERRY_REWRITE_NAMESPACES'), ['rewrite', 'namespaces']);
  const { config, explicit } = resolveConfig(
    { queue: { concurrency: 2 } },
    {
      FERRY_QUEUE_REDIS_URL: 'redis://10.0.0.1:6380/2',
      FERRY_QUEUE_CONCURRENCY: '12',
      FERRY_WEBHOOK_FAIL_CLOSED: 'true',
      FERRY_COPY_PLATFORMS: 'linux/amd64, linux/arm64/v8',
      FERRY_REWRITE_NAMESPACES: '{ lab: off }',
      FERRY_BLOCK: '[{ pattern: "x/**", reason: r }]',
    },
  );
  t.equal(config.queue.redisUrl, 'redis://10.0.0.1:6380/2');
  t.equal(config.queue.concurrency, 12, 'env beats file');
  t.equal(config.webhook.failClosed, true);
  t.same(config.copy.platforms, ['linux/amd64', 'linux/arm64/v8']);
  t.same(config.rewrite.namespaces, { 'kube-system': 'off', lab: 'off' });
  t.same(config.block, [{ pattern: 'x/**', reason: 'r' }]);
  t.ok(explicit.has('queue.redisUrl'));
});

t.test('an invalid config is refused listing every problem', async (t) => {
  const problems = problemsOf(() =>
    resolveConfig(
      {
        mirror: { registry: '' },
        rewrite: { mode: 'sometimes', namespaces: { a: 'never' } },
        queue: { concurrency: 0, backoff: { maxMs: 900000 } },
        block: [{ reason: 'no target' }],
        webhok: {},
      },
      { FERRY_DASHBOARD_PORT: 'eighty' },
    ),
  );
  const text = problems.join('\n');
  t.match(text, /mirror\.registry/);
  t.match(text, /rewrite\.mode: must be one of off, mirrored, always, enforce/);
  t.match(text, /rewrite\.namespaces\.a/);
  t.match(text, /queue\.concurrency/);
  t.match(text, /queue\.backoff\.maxMs/);
  t.match(text, /block\.0: needs exactly one of "pattern" or "digest"/);
  t.match(text, /unknown key "webhok"/);
  t.match(text, /dashboard\.port/);
  t.ok(problems.length >= 8, `${problems.length} problems listed`);

  const semantic = problemsOf(() =>
    resolveConfig({
      watch: [{ image: 'nginx', strategy: 'semver', schedule: 'every day', allowTags: '([' }],
      queue: { backoff: { initialMs: 5000, maxMs: 1000 } },
      webhook: { certFile: '/x.crt' },
    }),
  );
  t.match(semantic.join('\n'), /watch\.0\.schedule: invalid cron/);
  t.match(semantic.join('\n'), /watch\.0\.allowTags: invalid regular expression/);
  t.match(semantic.join('\n'), /initialMs: 5000 is larger than maxMs/);
  t.match(semantic.join('\n'), /certFile and keyFile/);
});

t.test('registries["*"]: a default entry for every registry, without endpoint, credentials or insecure', async (t) => {
  const ok = resolveConfig({ registries: { '*': { credentialsFile: '/etc/ferry/docker/config.json', requestsPerSecond: 20 }, 'ghcr.io': { requestsPerSecond: 5 } } });
  t.same(ok.config.registries['*'], { credentialsFile: '/etc/ferry/docker/config.json', requestsPerSecond: 20 });
  const problems = problemsOf(() =>
    resolveConfig({ registries: { '*': { endpoint: 'https://mirror.example', username: 'u', password: 'p', insecure: true }, 'quay.io': { endpoint: 'https://quay.example' } } }),
  ).join('\n');
  t.match(problems, /registries\.\*\.endpoint: not allowed on the "\*" default entry \(one endpoint cannot serve every registry\); set it under registries\.<host>/);
  t.match(problems, /registries\.\*\.username: not allowed.*credentialsFile/);
  t.match(problems, /registries\.\*\.password: not allowed/);
  t.match(problems, /registries\.\*\.insecure: not allowed/);
  t.notMatch(problems, /quay\.io/, 'a host entry may set its endpoint');
  const fromEnv = problemsOf(() => resolveConfig({}, { FERRY_REGISTRIES: '{"*": {endpoint: "https://x.example"}}' }));
  t.match(fromEnv.join('\n'), /registries\.\*\.endpoint: not allowed/, 'the environment is checked the same way');
});

t.test('unreadable file and YAML syntax errors are typed errors', async (t) => {
  t.throws(() => loadConfig('/nonexistent/ferry.yaml', {}), { code: 'FERRY_ERR_CONFIG_UNREADABLE' });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cfg-'));
  writeFileSync(join(dir, 'bad.yaml'), 'mirror: { registry: [unclosed\n');
  t.throws(() => loadConfig(join(dir, 'bad.yaml'), {}), { code: 'FERRY_ERR_CONFIG_INVALID', message: /YAML syntax/ });
  writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
  t.throws(() => loadConfig(join(dir, 'list.yaml'), {}), { message: /must be a YAML mapping/ });
});

t.test('hot reload: a valid change is applied, an invalid one keeps the old config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cfg-'));
  const file = join(dir, 'ferry.yaml');
  writeFileSync(file, 'queue: { concurrency: 2 }\n');
  const changes: LoadedConfig[] = [];
  const invalid: string[] = [];
  let wake: () => void = () => {};
  const next = () => new Promise<void>((r) => (wake = r));
  const w = watchConfigFile(
    file,
    (l) => {
      changes.push(l);
      wake();
    },
    (m) => {
      invalid.push(m);
      wake();
    },
    { debounceMs: 20, env: {} },
  );
  t.teardown(() => w.close());

  let p = next();
  writeFileSync(file, 'queue: { concurrency: 5 }\n');
  await p;
  t.equal(changes.at(-1)?.config.queue.concurrency, 5);

  p = next();
  writeFileSync(file, 'queue: { concurrency: -1 }\n');
  await p;
  t.equal(invalid.length, 1);
  t.match(invalid[0], /queue\.concurrency/);
  t.equal(changes.length, 1, 'the invalid file changed nothing');

  // Editors and ConfigMaps replace the file by rename.
  p = next();
  writeFileSync(join(dir, 'tmp.yaml'), 'queue: { concurrency: 7 }\n');
  renameSync(join(dir, 'tmp.yaml'), file);
  await p;
  t.equal(changes.at(-1)?.config.queue.concurrency, 7);
});
