import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { discovery, openapiV3, servesStatus } from './discovery.js';
import { patchKindOf } from './patch.js';
import { apiVersionOf, StatusError, type KubeObject, type ResourceType, type Store, type WriteScope } from './store.js';
import { printsTables, toTable, wantsTable } from './table.js';
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
  /** The Accept header (kubectl asks for Tables: `application/json;as=Table;v=v1;g=meta.k8s.io,...`). */
  accept?: string;
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
  // Only /status is served, and on a custom resource only when its CRD declares it.
  if (subresource !== undefined && (subresource !== 'status' || !servesStatus(type))) return undefined;
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
  const entry: LoggedRequest = { method, path: url.pathname, query, watch, contentType: req.headers['content-type'], accept: req.headers.accept };
  deps.requests.push(entry);
  res.on('finish', () => (entry.status = res.statusCode));
  deps.onRequest(entry);

  const send = (code: number, body: unknown): void => sendJson(res, code, body);
  const fixed = discovery(store, url.pathname, req.headers.host ?? '127.0.0.1') ?? openapiV3(store, url.pathname);
  if (fixed !== undefined && method === 'GET') return send(200, fixed);

  const r = route(store, url.pathname);
  if (r === undefined || r === 'discovery') {
    throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${method} ${url.pathname})`);
  }
  const { type, namespace, name, subresource } = r;
  const int = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));
  // kubectl get asks for a Table; the stand-in prints custom resources (and types with printer columns) as one.
  const table = method === 'GET' && printsTables(type) && wantsTable(req.headers.accept);
  const asTable = (items: KubeObject[], resourceVersion: string, more: { continue?: string; remainingItemCount?: number } = {}): KubeObject =>
    toTable(type, items, { resourceVersion, ...more, includeObject: query.includeObject });

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
        ...(table ? { render: (o: KubeObject) => asTable([o], o.metadata?.resourceVersion ?? '') } : {}),
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
    if (table) return send(200, asTable(l.items, l.resourceVersion, l));
    const metadata: Record<string, unknown> = { resourceVersion: l.resourceVersion };
    if (l.continue) Object.assign(metadata, { continue: l.continue, remainingItemCount: l.remainingItemCount });
    return send(200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items: l.items });
  }
  if (method === 'GET') {
    const o = store.get(type, namespace, name!);
    return send(200, table ? asTable([o], o.metadata?.resourceVersion ?? '') : o);
  }
  const scope: WriteScope = subresource === 'status' ? 'status' : 'object';
  if (method === 'POST' && name === undefined) {
    const body = (await readBody(req)) as KubeObject | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new StatusError(400, 'BadRequest', 'a JSON object body is required');
    return send(201, store.create(type, namespace, body, scope));
  }
  if (name === undefined) throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
  if (method === 'PUT') return send(200, store.update(type, namespace, name, (await readBody(req)) as KubeObject, scope));
  if (method === 'PATCH') {
    const kind = patchKindOf(String(req.headers['content-type'] ?? ''));
    return send(200, store.patch(type, namespace, name, await readBody(req), kind, scope));
  }
  if (method === 'DELETE' && subresource === undefined) return send(200, store.delete(type, namespace, name));
  throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported`);
}
