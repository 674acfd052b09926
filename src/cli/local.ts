/**
 * `ferry all` with nothing configured: start a private redis-server and a
 * docker-registry (the mirror) on free loopback ports, and stop them on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { LOCAL_ERROR_TABLE } from '../cli-errors.js';
import { FerryError } from '../errors.js';
import { redisAnswers } from '../queue/index.js';

export interface LocalService {
  name: string;
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * Children get their own process group: Ctrl-C (SIGINT to the terminal's
 * whole group) must reach only ferry, which drains its work against them and
 * stops them last. Any exit of ferry, even a forced one, takes them along.
 */
function launch(bin: string, args: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.on('error', () => {});
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return child;
}

async function until(ready: () => Promise<boolean>, child: ChildProcess, what: string, pkg: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const spawnError = new Promise<Error>((r) => child.once('error', r));
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 50))]);
    if (failed) {
      throw LOCAL_ERROR_TABLE.create('MISSING', `cannot start ${what}: ${failed.message}`, {
        hint: `install the Debian package "${pkg}" (apt-get install -y ${pkg}) or configure an existing one`,
      });
    }
    if (child.exitCode !== null) throw new FerryError(LOCAL_ERROR_TABLE.codes.EXITED, `${what} exited with code ${child.exitCode}: ${stderr.trim()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new FerryError(LOCAL_ERROR_TABLE.codes.TIMEOUT, `${what} did not become ready in 15 s: ${stderr.trim()}`);
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        res();
      });
      child.kill('SIGTERM');
    });
}

export async function startLocalRedis(stateDir: string, logger: Logger): Promise<LocalService> {
  const port = await freePort();
  const dir = resolve(stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '']);
  await until(
    () => redisAnswers(port),
    child,
    'redis-server',
    'redis-server',
  );
  logger.info({ url: `redis://127.0.0.1:${port}`, dir }, 'started a local redis-server (queue.redisUrl not configured)');
  return { name: 'redis-server', address: `redis://127.0.0.1:${port}`, child, stop: stopper(child) };
}

export async function startLocalRegistry(stateDir: string, logger: Logger): Promise<LocalService> {
  const port = await freePort();
  const dir = resolve(stateDir, 'registry');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", draintimeout: 2s}`,
      '',
    ].join('\n'),
  );
  const child = launch('docker-registry', ['serve', config]);
  await until(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.arrayBuffer();
      return res.status === 200;
    },
    child,
    'docker-registry',
    'docker-registry',
  );
  logger.info({ registry: `127.0.0.1:${port}`, dir }, 'started a local docker-registry as the mirror (mirror.registry not configured)');
  return { name: 'docker-registry', address: `127.0.0.1:${port}`, child, stop: stopper(child) };
}
