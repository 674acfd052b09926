/**
 * A thin reverse proxy giving docker-registry 2.8 an OCI 1.1 referrers API:
 * manifests PUT through it that carry a `subject` are remembered, answered
 * with `OCI-Subject: <subject digest>` (as a registry that indexes referrers
 * does), and listed by `GET /v2/<name>/referrers/<digest>[?artifactType=]`.
 * Everything else is forwarded unchanged.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { freePort } from '../../support/process.js';

export interface ReferrersProxy {
  host: string;
  /** `METHOD path?query` of every request. */
  log: string[];
  stop(): Promise<void>;
}

const REFERRERS = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/;
const MANIFEST_PUT = /^\/v2\/(.+)\/manifests\/[^/]+$/;

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startReferrersProxy(upstreamHost: string): Promise<ReferrersProxy> {
  const [uh, up] = upstreamHost.split(':');
  const port = await freePort();
  const log: string[] = [];
  /** `repo@subject` -> descriptors */
  const index = new Map<string, Map<string, object>>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(`${req.method} ${url.pathname}${url.search}`);
    const ref = REFERRERS.exec(url.pathname);
    if (req.method === 'GET' && ref) {
      const want = url.searchParams.get('artifactType');
      const all = [...(index.get(`${ref[1]}@${ref[2]}`)?.values() ?? [])] as { artifactType?: string }[];
      const manifests = want ? all.filter((d) => d.artifactType === want) : all;
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', ...(want ? { 'OCI-Filters-Applied': 'artifactType' } : {}) });
      res.end(body);
      return;
    }
    const put = req.method === 'PUT' && MANIFEST_PUT.exec(url.pathname);
    const body = req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH' ? await bodyOf(req) : undefined;
    const headers = req.headers;
    const out = request({ host: uh, port: Number(up), method: req.method, path: req.url, headers }, (r) => {
      const extra: Record<string, string> = {};
      if (put && body && r.statusCode === 201) {
        try {
          const json = JSON.parse(body.toString('utf8'));
          if (json?.subject?.digest) {
            const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
            const key = `${put[1]}@${json.subject.digest}`;
            const m = index.get(key) ?? new Map<string, object>();
            m.set(digest, {
              mediaType: json.mediaType ?? req.headers['content-type'],
              digest,
              size: body.length,
              artifactType: json.artifactType ?? json.config?.mediaType,
              ...(json.annotations ? { annotations: json.annotations } : {}),
            });
            index.set(key, m);
            extra['OCI-Subject'] = json.subject.digest;
          }
        } catch {
          /* not JSON: forwarded as is */
        }
      }
      res.writeHead(r.statusCode ?? 502, { ...r.headers, ...extra });
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    if (body) out.end(body);
    else req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
