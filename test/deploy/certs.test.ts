// certs/make-certs.sh: its CA and serving certificate work for a real TLS
// handshake on 127.0.0.1 under the webhook Service's name, and only for clients
// that trust that CA.
import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, missing, run, which } from './fixtures/util.js';

const SCRIPT = join(ROOT, 'certs/make-certs.sh');
const SERVICE_NAME = 'ferry-webhook.ferry-system.svc';
const EXPECTED_SANS = [
  'DNS:ferry-webhook',
  'DNS:ferry-webhook.ferry-system',
  'DNS:ferry-webhook.ferry-system.svc',
  'DNS:ferry-webhook.ferry-system.svc.cluster.local',
  'DNS:localhost',
  'IP Address:127.0.0.1',
];

interface Made {
  dir: string;
  stdout: string;
  ca: string;
  cert: string;
  key: string;
}

function make(dir: string): Made {
  const r = run('bash', [SCRIPT, dir]);
  if (r.status !== 0) throw new Error(`make-certs.sh failed (${r.status}): ${r.stderr}`);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { dir, stdout: r.stdout, ca: read('ca.crt'), cert: read('tls.crt'), key: read('tls.key') };
}

/** GET https://127.0.0.1:port/ as `servername`; resolves the body or rejects with the TLS error. */
function get(port: number, opts: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent: false, timeout: 5000, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

t.test('certs/make-certs.sh', { skip: which('openssl') ? false : missing('openssl') }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-certs-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const made = make(join(tmp, 'a'));

  t.test('files, modes, printed caBundle', async (t) => {
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'ca-bundle.b64']) t.ok(existsSync(join(made.dir, f)), `${f} written`);
    for (const f of ['ca.key', 'tls.key']) t.equal(statSync(join(made.dir, f)).mode & 0o777, 0o600, `${f} is 0600`);
    const b64 = Buffer.from(made.ca).toString('base64');
    t.equal(made.stdout.trim(), b64, 'stdout is exactly the base64 caBundle');
    t.equal(readFileSync(join(made.dir, 'ca-bundle.b64'), 'utf8').trim(), b64, 'ca-bundle.b64 holds the same');
    t.doesNotThrow(() => createPrivateKey(made.key), 'tls.key parses');
  });

  t.test('certificate contents', async (t) => {
    const ca = new X509Certificate(made.ca);
    const leaf = new X509Certificate(made.cert);
    t.equal(ca.ca, true, 'CA is a CA');
    t.equal(leaf.ca, false, 'serving certificate is not a CA');
    t.ok(leaf.verify(ca.publicKey), 'serving certificate signed by the CA');
    t.ok(leaf.checkIssued(ca), 'issuer matches');
    const sans = (leaf.subjectAltName ?? '').split(/,\s*/).sort();
    t.same(sans, [...EXPECTED_SANS].sort(), 'SANs: webhook Service names + localhost + 127.0.0.1');
    t.match(leaf.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1'], 'extended key usage serverAuth');
    t.ok(new Date(leaf.validTo).getTime() > Date.now() + 300 * 86_400_000, 'valid for most of a year');
  });

  t.test('TLS handshake on 127.0.0.1', async (t) => {
    const server = https.createServer({ cert: made.cert, key: made.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    t.equal(await get(port, { ca: made.ca, servername: SERVICE_NAME }), 'ok', `trusting only the CA, as ${SERVICE_NAME}`);
    t.equal(
      await get(port, { ca: made.ca, servername: 'ferry-webhook.ferry-system.svc.cluster.local' }),
      'ok',
      'as the fully qualified Service name',
    );
    t.equal(await get(port, { ca: made.ca }), 'ok', 'by IP 127.0.0.1 (local development)');

    await t.rejects(get(port, { servername: SERVICE_NAME }), 'a client with only the default roots refuses it');
    const other = make(join(tmp, 'other'));
    await t.rejects(get(port, { ca: other.ca, servername: SERVICE_NAME }), 'a client trusting another ferry CA refuses it');
    await t.rejects(
      get(port, { ca: made.ca, servername: 'ferry-webhook.elsewhere.svc' }),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      'a name outside the SANs is refused',
    );
  });

  t.test('re-running keeps the CA and renews the serving certificate', async (t) => {
    const again = make(made.dir);
    t.equal(again.ca, made.ca, 'same CA, so the registered caBundle stays valid');
    t.not(again.cert, made.cert, 'new serving certificate');
    t.not(again.key, made.key, 'new serving key');
    t.ok(new X509Certificate(again.cert).verify(new X509Certificate(made.ca).publicKey), 'signed by the same CA');
    t.equal(again.stdout, made.stdout, 'same caBundle printed');
  });

  t.test('default output directory is certs/out next to the script, ignored by git', async (t) => {
    const copy = join(tmp, 'repo');
    mkdirSync(join(copy, 'certs'), { recursive: true });
    copyFileSync(SCRIPT, join(copy, 'certs/make-certs.sh'));
    const r = run('bash', [join(copy, 'certs/make-certs.sh')], { cwd: tmp });
    t.equal(r.status, 0, `runs without arguments ${r.stderr}`);
    t.ok(existsSync(join(copy, 'certs/out/tls.key')), 'wrote certs/out/');
    const git = which('git');
    if (git) {
      const ignored = run(git, ['check-ignore', '-q', 'certs/out/tls.key']);
      t.equal(ignored.status, 0, 'git ignores certs/out/ in this repository');
    } else {
      t.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), /^certs\/out\/?$/m, '.gitignore lists certs/out/');
    }
  });
});
