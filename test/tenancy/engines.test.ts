/**
 * The engines that reach an upstream with other credentials than ferry's own: the config they are built
 * from (withOnlyCredentials: exactly those credentials, or none, whatever `registries["*"]` says) and
 * their cache (one per credential fingerprint, LRU, closed when idle).
 */
import t from 'tap';
import { resolveConfig } from '../../src/config/index.js';
import { withOnlyCredentials } from '../../src/registry/index.js';
import { registryConfigFor } from '../../src/registry/credentials.js';
import { CredentialEngines } from '../../src/worker/credential-engines.js';

const config = resolveConfig({
  mirror: { registry: '127.0.0.1:5999' },
  registries: {
    '*': { credentialsFile: '/etc/ferry/docker/config.json', requestsPerSecond: 7 },
    'ghcr.io': { username: 'ferry', password: 'ferry-pw', endpoint: 'https://ghcr.example' },
    'index.docker.io': { username: 'hub', password: 'hub-pw' },
  },
}).config;

t.test('withOnlyCredentials: the host gets exactly the given credentials, or none', async (t) => {
  const anon = withOnlyCredentials(config, 'ghcr.io');
  const rc = registryConfigFor(anon, 'ghcr.io')!;
  t.equal(rc.username, undefined, "ferry's username is gone");
  t.equal(rc.password, undefined);
  t.equal(rc.credentialsFile, '', 'the "*" credentials file does not come back through the default entry');
  t.equal(rc.endpoint, 'https://ghcr.example', 'the endpoint stays');
  t.equal(rc.requestsPerSecond, 7, 'so do the defaults that are not credentials');
  const quay = registryConfigFor(withOnlyCredentials(config, 'quay.io'), 'quay.io')!;
  t.equal(quay.credentialsFile, '', 'a host with no entry of its own gets one without credentials');
  const pod = registryConfigFor(withOnlyCredentials(config, 'ghcr.io', { username: 'alice', password: 's3cret' }), 'ghcr.io')!;
  t.match(pod, { username: 'alice', password: 's3cret', credentialsFile: '' });
  for (const alias of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
    t.equal(registryConfigFor(withOnlyCredentials(config, 'docker.io'), alias)?.username, undefined, `Docker Hub as ${alias}: anonymous`);
  }
  t.equal(registryConfigFor(withOnlyCredentials(config, 'ghcr.io'), 'docker.io')?.username, 'hub', 'other hosts keep their credentials');
  t.equal(config.registries['ghcr.io']?.username, 'ferry', 'the config it came from is untouched');
});

t.test('CredentialEngines: one engine per credentials, least recently used dropped, idle ones closed', async (t) => {
  let now = 0;
  const engines = new CredentialEngines({ config, max: 2, idleMs: 60_000, now: () => now });
  t.teardown(() => engines.close());
  const a1 = await engines.use('ghcr.io', { username: 'a', password: '1' }, async (e) => e);
  const a2 = await engines.use('ghcr.io', { username: 'a', password: '1' }, async (e) => e);
  t.equal(a1, a2, 'the same credentials share an engine');
  const anon = await engines.use('ghcr.io', undefined, async (e) => e);
  t.not(anon, a1, 'anonymous is another engine');
  const other = await engines.use('ghcr.io', { username: 'a', password: '2' }, async (e) => e);
  t.not(other, a1, 'another password, another engine');
  t.equal(engines.size, 2, 'max 2: the least recently used went');
  t.not(await engines.use('ghcr.io', { username: 'a', password: '1' }, async (e) => e), a1, 'so it is built again');
  // An engine in use is never dropped, even past max.
  let release!: () => void;
  let busy: unknown;
  const held = engines.use('ghcr.io', { username: 'busy', password: 'x' }, (e) => ((busy = e), new Promise<void>((r) => (release = r))));
  await engines.use('ghcr.io', { username: 'b', password: 'x' }, async () => {});
  await engines.use('ghcr.io', { username: 'c', password: 'x' }, async () => {});
  t.equal(await engines.use('ghcr.io', { username: 'busy', password: 'x' }, async (e) => e), busy, 'a busy engine survives eviction');
  let release2!: () => void;
  const held2 = engines.use('ghcr.io', { username: 'busy2', password: 'x' }, () => new Promise<void>((r) => (release2 = r)));
  const crowded = await engines.use('ghcr.io', { username: 'd', password: 'x' }, async (e) => (e as unknown as { closing: AbortController }).closing.signal.aborted);
  t.equal(crowded, false, 'past max with every other engine busy: the one just built is not closed under its caller');
  release();
  release2();
  await Promise.all([held, held2]);
  now += 60_000;
  (engines as unknown as { sweep(ms: number): void }).sweep(60_000);
  t.equal(engines.size, 0, 'idle engines are closed');
});
