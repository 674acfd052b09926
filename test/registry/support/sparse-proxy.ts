/**
 * A thin reverse proxy that makes docker-registry 2.8 a mirror which ACCEPTS
 * sparse indexes (SPEC "Supply chain", `copy.platformMode: sparse`).
 *
 * docker-registry 2.8 refuses an image index (OCI index or Docker manifest
 * list) whose child manifests are not all in the repository: 400
 * MANIFEST_BLOB_UNKNOWN, one error per missing child (registry-recipes.md
 * section 7). Distribution 3 (when configured) and some hosted registries
 * accept such an index, which is what lets ferry keep the upstream digest
 * while copying only the wanted platforms. This proxy emulates that second
 * kind of registry: a PUT of an index media type is stored by the proxy
 * itself (bytes, by digest and by tag; 201 with Docker-Content-Digest, no
 * check of its children), GET/HEAD of those manifests by tag or digest are
 * served from that store (Content-Type, Docker-Content-Digest,
 * Content-Length), DELETE by digest drops them, and tags/list merges the
 * proxy's tags into the registry's. Everything else (blobs, image manifests,
 * children pushed by digest) is forwarded unchanged to the real registry.
 *
 * With `acceptSparse: false` nothing is intercepted: a logging pass-through,
 * so a test can count what a refusing docker-registry was sent.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { freePort } from '../../support/process.js';

export interface SparseProxy {
  host: string;
  /** `METHOD path?query STATUS` of every request, once answered. */
  log: string[];
  /** `repo@digest` of every index the proxy itself holds. */
  stored(): string[];
  stop(): Promise<void>;
}

export interface SparseProxyOptions {
  /** Default true: indexes are held by the proxy. False: a logging pass-through. */
  acceptSparse?: boolean;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const TAGS = /^\/v2\/(.+)\/tags\/list$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface Held {
  bytes: Buffer;
  mediaType: string;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const mediaTypeOf = (h: string | undefined) => (h ?? '').split(';')[0]!.trim().toLowerCase();

export async function startSparseProxy(upstreamHost: string, opts: SparseProxyOptions = {}): Promise<SparseProxy> {
  const accept = opts.acceptSparse ?? true;
  const [uh, up] = upstreamHost.split(':');
  const port = await freePort();
  const log: string[] = [];
  /** `repo@digest` -> index */
  const byDigest = new Map<string, Held>();
  /** `repo:tag` -> digest */
  const tags = new Map<string, string>();

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const line = `${req.method} ${url.pathname}${url.search}`;
    res.on('finish', () => log.push(`${line} ${res.statusCode}`));
    const m = accept ? MANIFEST.exec(url.pathname) : null;
    const body = req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH' ? await bodyOf(req) : undefined;

    if (m) {
      const [, repo, ref] = m as unknown as [string, string, string];
      const digestOf = (r: string) => (DIGEST.test(r) ? r : tags.get(`${repo}:${r}`));
      if (req.method === 'PUT' && INDEX_TYPES.has(mediaTypeOf(req.headers['content-type']))) {
        const digest = `sha256:${createHash('sha256').update(body!).digest('hex')}`;
        if (DIGEST.test(ref) && ref !== digest) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
          return;
        }
        byDigest.set(`${repo}@${digest}`, { bytes: body!, mediaType: mediaTypeOf(req.headers['content-type']) });
        if (!DIGEST.test(ref)) tags.set(`${repo}:${ref}`, digest);
        res.writeHead(201, { Location: `/v2/${repo}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
        res.end();
        return;
      }
      if (req.method === 'PUT' && !DIGEST.test(ref)) tags.delete(`${repo}:${ref}`); // an image manifest takes the tag over
      const d = digestOf(ref);
      const held = d ? byDigest.get(`${repo}@${d}`) : undefined;
      if (held && (req.method === 'GET' || req.method === 'HEAD')) {
        res.writeHead(200, { 'Content-Type': held.mediaType, 'Docker-Content-Digest': d!, 'Content-Length': String(held.bytes.length), 'Docker-Distribution-Api-Version': 'registry/2.0' });
        res.end(req.method === 'GET' ? held.bytes : undefined);
        return;
      }
      if (held && req.method === 'DELETE' && DIGEST.test(ref)) {
        byDigest.delete(`${repo}@${d}`);
        for (const [k, v] of tags) if (v === d && k.startsWith(`${repo}:`)) tags.delete(k);
        res.writeHead(202, { 'Content-Length': '0' });
        res.end();
        return;
      }
    }

    const t = accept && req.method === 'GET' ? TAGS.exec(url.pathname) : null;
    const out = request({ host: uh, port: Number(up), method: req.method, path: req.url, headers: req.headers }, (r) => {
      const mine = t ? [...tags.keys()].filter((k) => k.startsWith(`${t[1]}:`)).map((k) => k.slice(t[1]!.length + 1)) : [];
      if (!t || mine.length === 0 || (r.statusCode !== 200 && r.statusCode !== 404)) {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        return;
      }
      // tags/list: the registry's tags and the proxy's, one list
      bodyOf(r).then(
        (b) => {
          let theirs: string[] = [];
          try {
            theirs = r.statusCode === 200 ? ((JSON.parse(b.toString('utf8')) as { tags?: string[] | null }).tags ?? []) : [];
          } catch {
            /* not JSON: only ours */
          }
          const json = JSON.stringify({ name: t[1], tags: [...new Set([...theirs, ...mine])] });
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(json)) });
          res.end(json);
        },
        () => res.destroy(),
      );
    });
    out.on('error', () => res.destroy());
    if (body) out.end(body);
    else req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    log,
    stored: () => [...byDigest.keys()],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
