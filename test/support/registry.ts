import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, waitFor } from './process.js';

export interface RegistryOptions {
  /** htpasswd file content (bcrypt lines, e.g. from `htpasswd -Bbn`). */
  htpasswd?: string;
  /** auth.token block: realm URL, service, issuer, rootcertbundle path. */
  token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
  /** Notification endpoint URL (docker-registry `notifications.endpoints`). */
  notifyUrl?: string;
  /** Headers docker-registry sends with every notification (`endpoints[].headers`), e.g. `{ Authorization: ['Bearer x'] }`. */
  notifyHeaders?: Record<string, string[]>;
  /** Allow DELETE (default true). */
  deleteEnabled?: boolean;
}

export interface TestRegistry {
  /** host:port */
  host: string;
  url: string;
  dir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A real Debian `docker-registry` (distribution 2.8) on a free loopback port with its own storage dir. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-reg-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${join(dir, 'data')}}`,
    `  delete: {enabled: ${opts.deleteEnabled ?? true}}`,
    `http: {addr: "127.0.0.1:${port}", draintimeout: 1s}`,
  ];
  if (opts.htpasswd) {
    writeFileSync(join(dir, 'htpasswd'), opts.htpasswd);
    lines.push('auth:', '  htpasswd:', '    realm: test-registry', `    path: ${join(dir, 'htpasswd')}`);
  } else if (opts.token) {
    const t = opts.token;
    lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootcertbundle}`);
  }
  if (opts.notifyUrl) {
    lines.push('notifications:', '  endpoints:', '    - name: ferry', `      url: ${opts.notifyUrl}`, '      timeout: 2s', '      threshold: 3', '      backoff: 1s');
    if (opts.notifyHeaders) lines.push(`      headers: ${JSON.stringify(opts.notifyHeaders)}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      return res.status === 200 || res.status === 401;
    }, `docker-registry on ${port}`, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    dir,
    child,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
