/**
 * An upstream registry chooses URLs ferry connects to: the Bearer realm,
 * redirect Locations, the tag list's next page. Real HTTP, loopback only:
 * fake registries and token servers on 127.0.0.1, and a fake hosts table so
 * that a registry can be REMOTE by name (`registry.test` -> 127.0.0.1) and no
 * name in this process resolves through real DNS. Refused targets are of
 * the kinds that cannot send traffic off this machine (another scheme, a
 * loopback server, a redirect never followed, a metadata NAME the fake DNS
 * does not know); real metadata addresses are only judged in outbound.test.ts.
 */
import t, { type Test } from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { installFakeDns } from './support/fakedns.js';
import { startFakeRegistry, type FakeRegistry } from './support/fakeregistry.js';
import { testConfig } from './support/fixtures.js';

t.teardown(installFakeDns({ localhost: '127.0.0.1', 'registry.test': '127.0.0.1', 'tokens.test': '127.0.0.1', 'cdn.test': '127.0.0.1' }));

const UNSAFE = 'FERRY_ERR_REGISTRY_UNSAFE_TARGET';
const CONFIG_BLOB = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: 'x', size: 1 }, layers: [] }));

async function fake(t: Test): Promise<FakeRegistry> {
  const f = await startFakeRegistry();
  t.teardown(() => f.stop());
  return f;
}

/** A token server: every GET /token gets a token. */
async function tokenServer(t: Test): Promise<FakeRegistry> {
  const f = await fake(t);
  f.route('GET', '/token', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'tok', expires_in: 300 }));
  });
  return f;
}

const challenge = (reg: FakeRegistry, realm: string) =>
  reg.route('GET', '/v2/', (req, res) => {
    req.resume();
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${realm}",service="fake"`, 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  });

/** An engine for which `reg` is the remote `registry.test:<port>` (plain http by config). */
const remoteEngine = (t: Test, reg: FakeRegistry) => {
  const e = new RegistryEngine({ config: testConfig({ registries: { [`registry.test:${reg.port}`]: { insecure: true } } }), retries: 0 });
  t.teardown(() => e.close());
  return { engine: e, host: `registry.test:${reg.port}` };
};
const loopbackEngine = (t: Test) => {
  const e = new RegistryEngine({ config: testConfig(), retries: 0 });
  t.teardown(() => e.close());
  return e;
};

t.test('a realm with a scheme other than http(s): UNSAFE_TARGET, permanent, nothing sent', async (t) => {
  const tokens = await tokenServer(t);
  for (const realm of [`ftp://127.0.0.1:${tokens.port}/token`, 'file:///etc/passwd', `gopher://127.0.0.1:${tokens.port}/_SET%20x`]) {
    const reg = await fake(t);
    challenge(reg, realm);
    reg.manifest('demo/app', ['v1'], MANIFEST);
    const err = await loopbackEngine(t).resolveDigest(`${reg.host}/demo/app:v1`).catch((e) => e);
    t.match(err, { code: UNSAFE, transient: false, message: /scheme/ }, realm);
    t.match(err.hint, /nothing was sent there/);
    t.notOk(reg.log.some((l) => l.startsWith('HEAD')), 'no manifest request without a token');
  }
  t.same(tokens.log, [], 'the token server was never asked');
});

t.test('a remote registry cannot aim its realm at loopback, by address or by a name resolving there', async (t) => {
  const tokens = await tokenServer(t);
  const realms = [
    `http://127.0.0.1:${tokens.port}/token`,
    `http://localhost:${tokens.port}/token`,
    `http://[::1]:${tokens.port}/token`,
    `http://2130706433:${tokens.port}/token`,
    `http://tokens.test:${tokens.port}/token`, // judged on the address it resolves to
    `http://registry.test:${tokens.port}/token`, // the registry's own name, another origin (DNS rebinding)
    'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token',
  ];
  for (const realm of realms) {
    const reg = await fake(t);
    challenge(reg, realm);
    reg.manifest('demo/app', ['v1'], MANIFEST);
    const { engine, host } = remoteEngine(t, reg);
    const err = await engine.resolveDigest(`${host}/demo/app:v1`).catch((e) => e);
    t.match(err, { code: UNSAFE, transient: false }, realm);
    t.match(err.message, /loopback|metadata/, err.message);
    t.ok(reg.log.includes('GET /v2/'), 'the registry itself was reached (its own origin may resolve anywhere)');
  }
  t.same(tokens.log, [], 'the loopback token server never saw a request');

  // the same realm from a registry that is itself on loopback is its own: allowed
  const reg = await fake(t);
  challenge(reg, `http://localhost:${tokens.port}/token`);
  const digest = reg.manifest('demo/app', ['v1'], MANIFEST);
  t.equal((await loopbackEngine(t).resolveDigest(`${reg.host}/demo/app:v1`))?.digest, digest, 'loopback registry, loopback realm: works');
  t.equal(tokens.log.length, 1);
});

t.test('a token request is never redirected: the error names the realm, the Location is not contacted', async (t) => {
  const elsewhere = await tokenServer(t);
  const tokens = await fake(t);
  tokens.route('GET', '/token', (req, res) => {
    req.resume();
    res.writeHead(302, { Location: `http://127.0.0.1:${elsewhere.port}/token` }).end();
  });
  const reg = await fake(t);
  challenge(reg, `http://127.0.0.1:${tokens.port}/token`);
  reg.manifest('demo/app', ['v1'], MANIFEST);
  const err = await loopbackEngine(t).resolveDigest(`${reg.host}/demo/app:v1`).catch((e) => e);
  t.match(err, { code: UNSAFE, transient: false, details: { realm: `http://127.0.0.1:${tokens.port}` } });
  t.match(err.message, new RegExp(`token server at http://127\\.0\\.0\\.1:${tokens.port} answered 302.*follow no redirects`));
  t.equal(tokens.log.length, 1, 'asked once (permanent: not retried)');
  t.same(elsewhere.log, [], 'the redirect target never saw a request');
});

t.test('blob redirects: refused off http(s) and to loopback from a remote registry; followed within its origin, or from a loopback one', async (t) => {
  const cdn = await fake(t);
  cdn.route('GET', '/blob', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Length': String(CONFIG_BLOB.length) }).end(CONFIG_BLOB);
  });
  const redirecting = async (location: string) => {
    const reg = await fake(t);
    reg.route('GET', /\/blobs\//, (req, res) => {
      req.resume();
      res.writeHead(307, { Location: location }).end();
    });
    return reg;
  };
  const digest = (await fake(t)).blob('x/y', CONFIG_BLOB);

  const locations = [
    `http://127.0.0.1:${cdn.port}/blob`,
    `http://localhost:${cdn.port}/blob`,
    `http://cdn.test:${cdn.port}/blob`, // a name resolving to loopback
    '', // filled below: the registry's own host name on another port (what DNS rebinding looks like)
    'file:///etc/passwd',
  ];
  for (let i = 0; i < locations.length; i++) {
    const reg = await redirecting(locations[i] || `http://registry.test:${cdn.port}/blob`);
    const { engine, host } = remoteEngine(t, reg);
    const err = await engine.getBlobJson(`${host}/demo/app`, digest).catch((e) => e);
    t.match(err, { code: UNSAFE, transient: false, message: /redirect 1: .*(loopback|scheme)|(cdn|registry)\.test resolves to 127\.0\.0\.1/ }, locations[i] || 'own name, other port');
    t.equal(reg.log.filter((l) => l.startsWith('GET /v2/demo/app/blobs/')).length, 1, 'not retried');
  }
  t.same(cdn.log, [], 'the loopback service never saw a request');

  // a remote registry redirecting within its own origin: followed
  const own = await fake(t);
  own.route('GET', /\/blobs\//, (req, res) => {
    req.resume();
    res.writeHead(307, { Location: '/elsewhere/blob' }).end();
  });
  own.route('GET', '/elsewhere/blob', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Length': String(CONFIG_BLOB.length) }).end(CONFIG_BLOB);
  });
  const { engine, host } = remoteEngine(t, own);
  t.same(await engine.getBlobJson(`${host}/demo/app`, digest), JSON.parse(CONFIG_BLOB.toString()), 'followed within the registry\'s origin');
  // a loopback registry redirecting to loopback (a local CDN): followed
  const local = await redirecting(`http://localhost:${cdn.port}/blob`);
  t.same(await loopbackEngine(t).getBlobJson(`${local.host}/demo/app`, digest), JSON.parse(CONFIG_BLOB.toString()), 'followed from a loopback registry');
  t.equal(cdn.log.length, 1);
});

t.test('a tag list page link to loopback from a remote registry is refused', async (t) => {
  const cdn = await fake(t);
  cdn.route('GET', /tags/, (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"tags":["stolen"]}');
  });
  const reg = await fake(t);
  reg.route('GET', '/v2/demo/app/tags/list', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', Link: `<http://127.0.0.1:${cdn.port}/v2/demo/app/tags/list?last=a>; rel="next"` }).end('{"tags":["a"]}');
  });
  const { engine, host } = remoteEngine(t, reg);
  const err = await engine.listTags(`${host}/demo/app`).catch((e) => e);
  t.match(err, { code: UNSAFE, transient: false });
  t.same(cdn.log, []);
});

t.test('an image naming a metadata host is never contacted', async (t) => {
  const engine = loopbackEngine(t);
  for (const ref of ['metadata.google.internal/computemetadata/v1:x', 'metadata.goog/x/y:v1']) {
    const err = await engine.resolveDigest(ref).catch((e) => e);
    t.match(err, { code: UNSAFE, transient: false, message: /metadata/ }, ref);
  }
});

t.test('a token server streaming an endless body is cut off after 1 MiB', { timeout: 30_000 }, async (t) => {
  const tokens = await fake(t);
  let closed!: () => void;
  const connectionClosed = new Promise<void>((r) => (closed = r));
  tokens.route('GET', '/token', async (req, res) => {
    req.resume();
    res.on('close', closed);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    while (!res.destroyed) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
  });
  const reg = await fake(t);
  challenge(reg, `http://127.0.0.1:${tokens.port}/token`);
  // a long timeout: only the size limit can end this request in time for the test
  const e = new RegistryEngine({ config: testConfig({ copy: { timeoutMs: 600_000 } }), retries: 0 });
  t.teardown(() => e.close());
  await t.rejects(e.resolveDigest(`${reg.host}/demo/app:v1`), { code: 'FERRY_ERR_REGISTRY_PROTOCOL', message: /without a token/ });
  await connectionClosed;
});
