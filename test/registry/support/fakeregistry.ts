/**
 * A scriptable registry on 127.0.0.1 for what a real one will not do: hostile
 * answers (odd realms, redirects, oversized or malformed manifests, bad
 * digests) and answers held until the test releases them. Routes are matched
 * newest first, so a test overrides the defaults (`GET /v2/` -> 200, anything
 * else -> 404 MANIFEST_UNKNOWN/BLOB_UNKNOWN). Every request is logged as
 * `METHOD /path?query`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../../support/process.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface FakeRegistry {
  port: number;
  /** 127.0.0.1:port */
  host: string;
  url: string;
  log: string[];
  route(method: string, path: string | RegExp, h: Handler): void;
  /** Serves `bytes` as a manifest under each of `refs` (tags) and its digest; returns the digest. */
  manifest(repo: string, refs: string[], bytes: Buffer, mediaType?: string): string;
  /** Serves `bytes` as a blob; returns its digest. */
  blob(repo: string, bytes: Buffer): string;
  stop(): Promise<void>;
}

/** An answer held until `open()`; `arrived` resolves when the held request came in. */
export interface Gate {
  arrived: Promise<void>;
  opened: Promise<void>;
  arrive(): void;
  open(): void;
}

export function gate(): Gate {
  let arrive!: () => void;
  let open!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  const opened = new Promise<void>((r) => (open = r));
  return { arrived, opened, arrive, open };
}

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export async function startFakeRegistry(): Promise<FakeRegistry> {
  const routes: { method: string; path: string | RegExp; h: Handler }[] = [];
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    log.push(`${req.method} ${req.url}`);
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i]!;
      if (r.method !== req.method) continue;
      if (typeof r.path === 'string' ? r.path !== url.pathname : !r.path.test(url.pathname)) continue;
      Promise.resolve(r.h(req, res, url)).catch(() => res.socket?.destroy());
      return;
    }
    req.resume();
    const code = url.pathname.includes('/blobs/') ? 'BLOB_UNKNOWN' : url.pathname.includes('/manifests/') ? 'MANIFEST_UNKNOWN' : 'NOT_FOUND';
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message: 'fake registry: no such thing' }] }));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const route = (method: string, path: string | RegExp, h: Handler) => routes.push({ method, path, h });
  route('GET', '/v2/', (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  const serve = (path: string, bytes: Buffer, headers: Record<string, string>) => {
    for (const method of ['GET', 'HEAD']) {
      route(method, path, (req, res) => {
        req.resume();
        res.writeHead(200, { ...headers, 'Content-Length': String(bytes.length) });
        res.end(method === 'GET' ? bytes : undefined);
      });
    }
  };
  return {
    port,
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    log,
    route,
    manifest(repo, refs, bytes, mediaType = OCI_MANIFEST) {
      const digest = sha256(bytes);
      for (const ref of [...refs, digest]) serve(`/v2/${repo}/manifests/${ref}`, bytes, { 'Content-Type': mediaType, 'Docker-Content-Digest': digest });
      return digest;
    },
    blob(repo, bytes) {
      const digest = sha256(bytes);
      serve(`/v2/${repo}/blobs/${digest}`, bytes, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest });
      return digest;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An OCI image manifest over `config` and `layers` (descriptors as given: tests pass hostile ones). */
export function imageManifest(config: { digest: string; size: number }, layers: { digest: string; size: number; mediaType?: string }[], extra: object = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
      ...extra,
    }),
  );
}

/** An OCI index over `children` (descriptors as given). */
export function indexManifest(children: { digest: string; size: number; mediaType?: string; platform?: object }[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, platform: { os: 'linux', architecture: 'amd64' }, ...c })),
    }),
  );
}
