/**
 * What the Events tests share: the stand-in Kubernetes API with a kubeconfig and ferry's real client
 * (client-node) for it, the real `kubectl` (run asynchronously: the stand-in lives in this process),
 * a logger that keeps its lines, and two broken API servers (one that never answers, one that refuses).
 */
import type { Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { connectKube, type KubeClient } from '../../../src/kube/index.js';
import { createLogger, type Logger } from '../../../src/observability/index.js';
import { startKubeApi, type KubeApi, type KubeObject } from '../../support/kube-api.js';

const run = promisify(execFile);

export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-events-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface StandIn {
  api: KubeApi;
  kubeconfig: string;
  client: KubeClient;
  kubectl(...args: string[]): Promise<string>;
}

export async function standIn(t: Test, objects: KubeObject[] = []): Promise<StandIn> {
  const api = await startKubeApi({ objects });
  t.teardown(() => api.close());
  const kubeconfig = api.kubeconfig(tempDir(t));
  const client = (await connectKube({ KUBECONFIG: kubeconfig }))!;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' })).stdout;
  return { api, kubeconfig, client, kubectl };
}

/** A kubeconfig (and client) for an API server at `url` (not the stand-in). */
export async function clientFor(t: Test, url: string): Promise<{ kubeconfig: string; client: KubeClient }> {
  const kubeconfig = join(tempDir(t), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'x', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'x', user: { token: 'not-a-real-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }],
      'current-context': 'x',
    }),
  );
  return { kubeconfig, client: (await connectKube({ KUBECONFIG: kubeconfig }))! };
}

export function captureLogger(level = 'info'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const logger = createLogger(level as 'info', new Writable({ write: (c, _e, cb) => (raw.push(String(c)), cb()) }));
  return { logger, lines: () => raw.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** An API server that accepts connections and never answers (counts what it accepted). */
export async function stallingServer(t: Test): Promise<{ url: string; accepted: () => number; open: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.resume(); // read (and discard) the request, so the client's close is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, accepted: () => accepted, open: () => sockets.size };
}

/** An API server answering every request with `status` and a Kubernetes Status body. */
export async function refusingServer(t: Test, status: number, message: string): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    req.resume();
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code: status });
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests: () => requests };
}

export const coreEvents = (api: KubeApi, ns?: string): Array<KubeObject & Record<string, any>> =>
  api.events(ns).filter((e) => e.apiVersion === 'v1') as Array<KubeObject & Record<string, any>>;
