import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import picomatch from 'picomatch';
import { CONFIG_SCHEMA, DEFAULTS, nextCronRun } from '../../src/config/index.js';
import { validate as generated } from '../../src/config/validate-config.gen.js';
import { AJV_OPTIONS, GENERATED_FILE, generateValidatorSource } from '../../src/config/validator-gen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('the committed validator is what schema.ts generates (else: npm run gen:config-validator)', async (t) => {
  t.equal(GENERATED_FILE, fileURLToPath(new URL('../../src/config/validate-config.gen.ts', import.meta.url)));
  const committed = readFileSync(GENERATED_FILE, 'utf8');
  // t.ok rather than t.equal: a 70 kB diff helps nobody; the message says what to do
  t.ok(committed === generateValidatorSource(), 'src/config/validate-config.gen.ts is out of date with src/config/schema.ts: run `npm run gen:config-validator` and commit the result');
});

t.test('the generated validator reports exactly what ajv compiling the schema at run time reports', async (t) => {
  const compiled = new Ajv(AJV_OPTIONS).compile(CONFIG_SCHEMA);
  const v = generated as unknown as typeof compiled;
  const inputs: unknown[] = [
    {},
    DEFAULTS,
    { nope: 1, mirror: { registry: '', insecure: 'yes', prefix: 'UPPER', extra: true } },
    { rewrite: { mode: 'sometimes', include: 'docker.io/**', namespaces: { dev: 'never' } } },
    { block: [{ reason: 'x' }, { pattern: 'a', digest: `sha256:${'a'.repeat(64)}`, reason: 'both' }, { digest: 'md5:short', reason: '' }, 'str'] },
    { verify: [{ pattern: '', keys: [], mode: 'maybe' }, {}] },
    { registries: { '*': { insecure: 1 }, 'r.io': { endpoint: 'ftp://x', requestsPerSecond: 0, bad: 1 } } },
    { queue: { redisUrl: 'http://x', concurrency: 0.5, backoff: { maxMs: 600_001 } } },
    { copy: { platforms: ['linux'], layerConcurrency: -1, platformMode: 'all' } },
    { watch: [{ image: 'i', strategy: 'semver', schedule: '', keep: -1, cacheBy: 'x', id: 'a b' }, { image: 'i' }] },
    { webhook: { port: 70_000, host: 1 }, dashboard: { port: -1 }, gc: { unusedFor: '1 week', schedule: '' }, log: { level: 'loud' } },
    // minLength counts code points (ucs2length), the runtime helper the generated module requires
    { mirror: { registry: '\u{1F600}' }, block: [{ pattern: '\u{1F600}', reason: '\u{1F600}' }] },
    [],
    'a string',
    null,
  ];
  for (const input of inputs) {
    const a = compiled(input);
    const b = v(input);
    t.equal(b, a, `valid: ${JSON.stringify(input).slice(0, 60)}`);
    t.same(v.errors ?? null, compiled.errors ?? null, `errors: ${JSON.stringify(input).slice(0, 60)}`);
  }
});

t.test('what load.ts skips checking is valid: the default schedules and globs', async (t) => {
  for (const s of [DEFAULTS.gc.schedule, DEFAULTS.refresh.schedule]) t.ok(nextCronRun(s) instanceof Date, `cron ${s}`);
  for (const g of [...DEFAULTS.rewrite.include, ...DEFAULTS.rewrite.exclude]) t.ok(picomatch.makeRe(g) instanceof RegExp, `glob ${g}`);
});

/** The npm packages (node_modules/<name>) a child has loaded after `code`. */
function packagesLoadedBy(code: string, env: Record<string, string> = {}): string[] {
  const script = `
    import { createRequire } from 'node:module';
    import { loadConfig } from './src/config/index.ts';
    ${code}
    const names = Object.keys(createRequire(import.meta.url).cache)
      .map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1])
      .filter(Boolean);
    process.stdout.write(JSON.stringify([...new Set(names)].sort()));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

t.test('loading the default config loads neither ajv nor yaml, cron-parser, luxon or picomatch', async (t) => {
  // (tap's coverage hooks add packages of their own to the child: name the ones that must be absent)
  const loaded = packagesLoadedBy('loadConfig(undefined, {});');
  for (const name of ['yaml', 'cron-parser', 'luxon', 'picomatch', 'fast-uri', 'json-schema-traverse', 'fast-deep-equal']) t.notOk(loaded.includes(name), `${name} not loaded`);
  // of ajv, only the runtime helper the generated code requires (minLength's ucs2length)
  const ajvFiles = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    import { loadConfig } from './src/config/index.ts';
    loadConfig(undefined, {});
    process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/ajv/')).map((f) => f.slice(f.indexOf('/node_modules/ajv/') + 18))));`], { cwd: ROOT, encoding: 'utf8' });
  t.same(JSON.parse(ajvFiles.stdout), ['dist/runtime/ucs2length.js'], ajvFiles.stderr);
});

t.test('what a config uses is loaded when it is used', async (t) => {
  t.ok(packagesLoadedBy(`loadConfig(undefined, { FERRY_GC_SCHEDULE: '0 4 * * *' });`).includes('cron-parser'), 'a schedule other than the defaults is checked with cron-parser');
  t.ok(packagesLoadedBy(`loadConfig(undefined, { FERRY_REWRITE_INCLUDE: 'docker.io/**' });`).includes('picomatch'), 'a glob other than the defaults is checked with picomatch');
  t.ok(packagesLoadedBy(`loadConfig(undefined, { FERRY_REWRITE_INCLUDE: '["docker.io/**"]' });`).includes('yaml'), 'a YAML env value is read with yaml');
  t.throws(() => packagesLoadedBy(`loadConfig(undefined, { FERRY_GC_SCHEDULE: 'H * * * *' });`), /invalid cron/, 'and still refused when invalid');
});
