// docker-compose.yml: `docker-compose config` accepts it (no engine needed), and
// the resolved file wires redis, the registry and the ferry roles together.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { envOverrideNames, resolveConfig } from '../../src/config/index.js';
import { ROOT, missing, run, which } from './fixtures/util.js';

/** Resolved compose output is untyped YAML; the assertions are the type check. */
type Any = any;

const FERRY_ROLES = ['webhook', 'worker', 'dashboard', 'watch', 'import'];

/** docker-compose v1, else the v2 plugin (`docker compose`), else undefined. */
function composeCommand(): string[] | undefined {
  const v1 = which('docker-compose');
  if (v1) return [v1];
  const docker = which('docker');
  if (docker && run(docker, ['compose', 'version']).status === 0) return [docker, 'compose'];
  return undefined;
}

const compose = composeCommand();

/** Published ports as { hostIp, published, target } whichever syntax the tool printed. */
function ports(svc: Any): { hostIp: string; published: string; target: string }[] {
  return (svc.ports ?? []).map((p: Any) => {
    if (typeof p === 'string') {
      const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
      const target = parts.pop()!;
      const published = parts.pop() ?? '';
      return { hostIp: parts.join(':'), published, target };
    }
    return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: String(p.target) };
  });
}

/** Volume mounts as { source, target } from either the short or the long syntax. */
function mounts(svc: Any): { source: string; target: string }[] {
  return (svc.volumes ?? []).map((v: Any) => {
    if (typeof v !== 'string') return { source: String(v.source ?? ''), target: String(v.target) };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

function healthTest(svc: Any): string[] {
  const test = svc.healthcheck?.test;
  return Array.isArray(test) ? test : ['CMD-SHELL', String(test)];
}

function flagValue(cmd: string[], flag: string): string | undefined {
  const i = cmd.indexOf(flag);
  return i >= 0 ? cmd[i + 1] : undefined;
}

t.test('docker-compose.yml', { skip: compose ? false : missing('docker-compose') }, async (t) => {
  // A clean environment: no FERRY_* or COMPOSE_* from the caller changes the interpolation.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  const [cmd, ...pre] = compose!;
  const r = run(cmd!, [...pre, '-f', 'docker-compose.yml', '--profile', 'extras', 'config'], { env });
  t.equal(r.status, 0, `docker-compose config accepts the file ${r.stderr}`);
  const quiet = run(cmd!, [...pre, '-f', 'docker-compose.yml', 'config', '--quiet'], { env });
  t.equal(quiet.status, 0, `without profiles too ${quiet.stderr}`);
  const cfg = parseYaml(r.stdout) as Any;
  const services: Record<string, Any> = cfg.services ?? {};

  t.test('services and healthchecks', async (t) => {
    for (const s of ['redis', 'registry', ...FERRY_ROLES]) t.ok(services[s], `service ${s}`);
    for (const [name, svc] of Object.entries(services)) {
      const test = healthTest(svc);
      t.ok(svc.healthcheck && !svc.healthcheck.disable && test.length > 1, `${name} has a healthcheck`);
      t.ok(svc.restart, `${name} restarts`);
      for (const p of ports(svc)) t.equal(p.hostIp, '127.0.0.1', `${name} publishes ${p.published} on loopback only`);
    }
    t.same(
      Object.entries(services).filter(([, s]) => s.profiles?.includes('extras')).map(([n]) => n).sort(),
      ['import', 'watch'],
      'watch and import are optional (profile extras)',
    );
  });

  t.test('redis persists', async (t) => {
    const redis = services.redis;
    const command: string[] = Array.isArray(redis.command) ? redis.command : String(redis.command).split(/\s+/);
    t.equal(flagValue(command, '--appendonly'), 'yes', 'appendonly yes');
    t.equal(flagValue(command, '--maxmemory-policy'), 'noeviction', 'noeviction (BullMQ)');
    t.ok(
      mounts(redis).some((m) => m.target === '/data' && m.source === 'redis-data'),
      'named volume redis-data at /data',
    );
    t.match(healthTest(redis).join(' '), /redis-cli ping/, 'healthcheck pings');
  });

  t.test('registry: registry:2, deletes enabled, volume', async (t) => {
    const reg = services.registry;
    t.match(reg.image, /^registry:2(\.|$)/, 'registry:2 image');
    t.equal(String(reg.environment?.REGISTRY_STORAGE_DELETE_ENABLED), 'true', 'delete enabled');
    t.ok(
      mounts(reg).some((m) => m.target === '/var/lib/registry' && m.source === 'registry-data'),
      'named volume registry-data at /var/lib/registry',
    );
    t.ok(cfg.volumes && 'redis-data' in cfg.volumes && 'registry-data' in cfg.volumes, 'named volumes declared');
  });

  t.test('ferry roles are wired by environment', async (t) => {
    const known = envOverrideNames();
    const configText = readFileSync(join(ROOT, 'deploy/compose/config.yaml'), 'utf8');
    const images = new Set<string>();
    for (const role of FERRY_ROLES) {
      const svc = services[role];
      const at = `service ${role}`;
      images.add(svc.image);
      t.ok(svc.build, `${at}: builds from the Dockerfile`);
      const command: string[] = svc.command;
      t.same(command, [role, '--config', '/etc/ferry/config.yaml'], `${at}: runs \`ferry ${role}\``);
      t.ok(
        mounts(svc).some((m) => m.target === '/etc/ferry/config.yaml' && m.source === join(ROOT, 'deploy/compose/config.yaml')),
        `${at}: mounts deploy/compose/config.yaml`,
      );
      t.equal(svc.read_only, true, `${at}: read-only root filesystem`);
      t.match(String(svc.user), /^65532(:65532)?$/, `${at}: runs as 65532`);
      t.ok(svc.cap_drop?.includes('ALL'), `${at}: drops all capabilities`);
      t.ok(
        (svc.tmpfs ?? []).some((x: string) => x.startsWith('/tmp')),
        `${at}: /tmp is a tmpfs`,
      );
      t.equal(svc.depends_on?.redis?.condition, 'service_healthy', `${at}: waits for a healthy redis`);
      t.equal(svc.depends_on?.registry?.condition, 'service_healthy', `${at}: waits for a healthy registry`);

      const env: Record<string, string> = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]),
      );
      for (const k of Object.keys(env)) {
        if (k.startsWith('FERRY_')) t.ok(known.has(k), `${at}: ${k} is a config override ferry understands`);
      }
      const redisUrl = new URL(env.FERRY_QUEUE_REDIS_URL ?? '');
      t.equal(redisUrl.hostname, 'redis', `${at}: Redis by service name`);
      t.equal(env.FERRY_MIRROR_REGISTRY, 'registry:5000', `${at}: mirror by service name`);
      t.equal(env.FERRY_DASHBOARD_HOST, '0.0.0.0', `${at}: health/dashboard port reachable from the healthcheck and host`);
      t.doesNotThrow(
        () => resolveConfig(parseYaml(configText), env, `compose ${role}`),
        `${at}: deploy/compose/config.yaml + this environment pass ferry's config validation`,
      );

      const health = healthTest(svc);
      const url = health[health.length - 1]!;
      t.equal(health[0], 'CMD', `${at}: exec-form healthcheck (the image has no shell)`);
      t.match(health.join(' '), /node \/usr\/local\/lib\/ferry\/healthcheck\.mjs/, `${at}: uses the image's healthcheck script`);
      t.equal(url, role === 'webhook' ? 'https://127.0.0.1:8443/readyz' : 'http://127.0.0.1:8080/readyz', `${at}: probes its own /readyz`);
    }
    t.equal(images.size, 1, 'one ferry image for every role');
    t.same(ports(services.dashboard).map((p) => p.target), ['8080'], 'dashboard published on 8080');
    t.same(ports(services.webhook).map((p) => p.target), ['8443'], 'webhook published on 8443');
    t.same(ports(services.worker), [], 'workers publish nothing, so they scale');
    t.notOk(services.worker.container_name, 'workers have no fixed container name, so they scale');
  });
});
