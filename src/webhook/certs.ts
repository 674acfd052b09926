import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_ERROR_TABLE } from './errors.js';

export interface ServingCert {
  key: string;
  cert: string;
  /** Where the self-signed cert was written (dev only), for the log and for curl --cacert. */
  caFile?: string;
}

export const DEV_CERT_NAMES = [
  'localhost',
  'ferry-webhook',
  'ferry-webhook.ferry-system',
  'ferry-webhook.ferry-system.svc',
  'ferry-webhook.ferry-system.svc.cluster.local',
];

/** Reads `webhook.certFile`/`keyFile`, or makes a self-signed pair (dev only) under `dir`. */
export async function servingCert(certFile: string, keyFile: string, dir: string): Promise<ServingCert> {
  if (certFile && keyFile) {
    try {
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    } catch (e) {
      throw WEBHOOK_ERROR_TABLE.create('CERT', `cannot read webhook certificate: ${(e as Error).message}`, { cause: e });
    }
  }
  const certPath = join(dir, 'webhook-selfsigned.crt');
  const keyPath = join(dir, 'webhook-selfsigned.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), caFile: certPath };
  }
  // Loaded only here: node-forge costs ~17 MB of RSS that a configured webhook never needs.
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'ferry-webhook (self-signed, dev only)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...DEV_CERT_NAMES.map((value) => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { cert: pems.cert, key: pems.private, caFile: certPath };
}
