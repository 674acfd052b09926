// The serving certificate is reloaded when cert-manager rewrites it, whichever
// of the two files changes last, and the watcher leaves nothing behind on close.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import selfsigned from 'selfsigned';
import { resolveConfig } from '../../src/config/index.js';
import { createContext } from '../../src/runtime/index.js';
import { createLogger } from '../../src/observability/index.js';
import { startWebhook } from '../../src/webhook/index.js';
import { watchCertificate } from '../../src/webhook/cert-watch.js';
import { startRedis } from '../support/redis.js';

async function pair(cn: string) {
  const p = await selfsigned.generate([{ name: 'commonName', value: cn }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
  return { cert: p.cert, key: p.private };
}

/** The certificate the server presents now, as a fingerprint. */
function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

t.test('a new pair is loaded once both files changed, though they live in different folders', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const certDir = mkdtempSync(join(tmpdir(), 'ferry-crt-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'ferry-key-'));
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(keyDir, 'tls.key');
  const first = await pair('first');
  const second = await pair('second');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);

  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, cb) {
        const line = String(chunk);
        lines.push(line);
        for (const w of waiters.filter((x) => x.re.test(line))) w.resolve();
        cb();
      },
    }),
  );
  const logged = (re: RegExp) => (lines.some((l) => re.test(l)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve })));

  const loaded = resolveConfig({ queue: { redisUrl: redis.url, prefix: 'certs' }, webhook: { port: 0, host: '127.0.0.1', certFile, keyFile } });
  const ctx = createContext(loaded, logger, {});
  const role = await startWebhook(ctx);
  t.teardown(async () => {
    await role.close();
    await ctx.close();
  });
  const port = Number(new URL(role.url).port);
  t.equal(await served(port), new X509Certificate(first.cert).fingerprint256, 'serves the first pair');

  // cert-manager's update lands file by file: the new cert first (no matching key yet) ...
  writeFileSync(certFile, second.cert);
  await logged(/could not be loaded; keeping the previous one/);
  t.equal(await served(port), new X509Certificate(first.cert).fingerprint256, 'a half-written pair keeps the previous one');
  // ... then the key, in its own folder.
  writeFileSync(keyFile, second.key);
  await logged(/webhook certificate reloaded/);
  t.equal(await served(port), new X509Certificate(second.cert).fingerprint256, 'serves the second pair without a restart');
});

t.test('close() cancels a reload that was scheduled and stops watching', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-crt-'));
  const file = join(dir, 'tls.crt');
  writeFileSync(file, 'x');
  let reloads = 0;
  const debounceMs = 50;
  const w = watchCertificate([file], async () => void reloads++, { debounceMs });
  writeFileSync(file, 'y');
  await new Promise<void>((resolve) => {
    const check = () => (w.pending ? resolve() : setImmediate(check));
    check();
  });
  w.close();
  t.equal(w.pending, false, 'the debounce timer is cleared');
  writeFileSync(file, 'z');
  await delay(debounceMs * 4); // a lower bound: had the timer survived, it would have fired by now
  t.equal(reloads, 0, 'nothing reloads after close');
});
