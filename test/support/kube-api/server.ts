import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { apiVersionOf, StatusError, type KubeObject, type ResourceType, type Store } from './store.js';
import { statusObject, type Watches } from './watch.js';

export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** Set when the response has finished (a watch stream: when it ends). */
  status?: number;
  contentType?: string;
}

export interface Routed {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** `/api/v1/...` or `/apis/{group}/{version}/...` -> the resource type, namespace, name it addresses. */
export function route(store: Store, path: string): Routed | 'discovery' | undefined {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 2) [group, version, rest] = ['', seg[1]!, seg.slice(2)];
  else if (seg[0] === 'apis' && seg.length >= 3) [group, version, rest] = [seg[1]!, seg[2]!, seg.slice(3)];
  else return undefined;
  if (rest.length === 0) return 'discovery';
  const find = (resource: string): ResourceType | undefined => store.types.get(`${group}/${version}/${resource}`);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  const type = resource ? find(resource) : undefined;
  if (!type || extra.length > 0) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  return { type, namespace, name, subresource };
}

export interface HandlerDeps {
  store: Store;
  watches: Watches;
  requests: LoggedRequest[];
  onRequest: (r: LoggedRequest) => void;
}

export function startHttp(deps: HandlerDeps): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      const e = err instanceof StatusError ? err : new StatusError(500, 'InternalError', String(err));
      if (!res.headersSent) sendJson(res, e.code, statusObject(e));
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StatusError(415, 'UnsupportedMediaType', 'the stand-in API server only accepts JSON bodies');
  }
}

async function handle(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { store, watches } = deps;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const query = Object.fromEntries(url.searchParams);
  const method = req.method ?? 'GET';
  const watch = query.watch === 'true' || query.watch === '1';
  const entry: LoggedRequest = { method, path: url.pathname, query, watch, contentType: req.headers['content-type'] };
  deps.requests.push(entry);
  res.on('finish', () => (entry.status = res.statusCode));
  deps.onRequest(entry);

  const send = (code: number, body: unknown): void => sendJson(res, code, body);
  const fixed = discovery(store, url.pathname, req.headers.host ?? '127.0.0.1');
  if (fixed !== undefined && method === 'GET') return send(200, fixed);

  const r = route(store, url.pathname);
  if (r === undefined || r === 'discovery') {
    throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${method} ${url.pathname})`);
  }
  const { type, namespace, name } = r;
  const int = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));

  if (method === 'GET' && watch) {
    return watches.serve(
      type,
      {
        namespace,
        resourceVersion: query.resourceVersion,
        allowWatchBookmarks: query.allowWatchBookmarks === 'true',
        timeoutSeconds: int(query.timeoutSeconds),
        labelSelector: query.labelSelector,
        fieldSelector: name ? [`metadata.name=${name}`, query.fieldSelector].filter(Boolean).join(',') : query.fieldSelector,
      },
      url.pathname,
      res,
    );
  }
  if (method === 'GET' && name === undefined) {
    const l = store.list(type, {
      namespace,
      limit: int(query.limit),
      continue: query.continue,
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
    }, false);
    const metadata: Record<string, unknown> = { resourceVersion: l.resourceVersion };
    if (l.continue) Object.assign(metadata, { continue: l.continue, remainingItemCount: l.remainingItemCount });
    return send(200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items: l.items });
  }
  if (method === 'GET') return send(200, store.get(type, namespace, name!));
  if (method === 'POST' && name === undefined) {
    const body = (await readBody(req)) as KubeObject | undefined;
    if (!body || typeof body !== 'object') throw new StatusError(400, 'BadRequest', 'a JSON object body is required');
    return send(201, store.create(type, namespace, body));
  }
  if (name === undefined) throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
  if (method === 'PUT') return send(200, store.update(type, namespace, name, (await readBody(req)) as KubeObject));
  if (method === 'PATCH') {
    const ct = String(req.headers['content-type'] ?? '');
    if (!/merge-patch\+json|strategic-merge-patch\+json|apply-patch/.test(ct)) {
      throw new StatusError(415, 'UnsupportedMediaType', `the stand-in API server does not handle ${ct || 'this'} patches (json-patch is not implemented)`);
    }
    return send(200, store.patch(type, namespace, name, await readBody(req)));
  }
  if (method === 'DELETE') return send(200, store.delete(type, namespace, name));
  throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported`);
}

/** The discovery documents kubectl reads before anything else; undefined when the path is not one. */
function discovery(store: Store, path: string, host: string): unknown {
  const p = path.replace(/\/+$/, '') || '/';
  const types = [...store.types.values()];
  const groups = [...new Set(types.filter((t) => t.group).map((t) => t.group))];
  const versionsOf = (g: string): string[] => [...new Set(types.filter((t) => t.group === g).map((t) => t.version))];
  if (p === '/version') {
    return { major: '1', minor: '32', gitVersion: 'v1.32.0-ferry-standin', gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: '', compiler: 'gc', platform: 'linux/amd64' };
  }
  if (p === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
  }
  if (p === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((g) => {
        const versions = versionsOf(g).map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
        return { name: g, versions, preferredVersion: versions[0] };
      }),
    };
  }
  const m = /^\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(p);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3]!;
  const here = types.filter((t) => t.group === group && t.version === version);
  if (here.length === 0) return undefined;
  const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: here.flatMap((t) => [
      { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: t.verbs ?? verbs, ...(t.shortNames ? { shortNames: t.shortNames } : {}) },
      { name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] },
    ]),
  };
}
