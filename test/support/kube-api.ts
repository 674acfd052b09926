/**
 * A stand-in Kubernetes API server for tests: plain HTTP on 127.0.0.1, in-memory objects, the real
 * list/watch protocol (resourceVersion, limit/continue, bookmarks, 410 Expired, timeoutSeconds) so the
 * real `@kubernetes/client-node` informers and the real `kubectl` talk to it unmodified.
 * Served besides: CustomResourceDefinitions (kube-api/crd.ts: applying one serves its resources at once,
 * `crds` installs some at start), the `/status` subresource of types that declare it (status and the rest
 * written apart, metadata.generation, 409 on a stale resourceVersion), merge, strategic-merge (as merge)
 * and json-patch PATCHes, `meta.k8s.io/v1` Tables for custom resources (kubectl prints their printer
 * columns), and a minimal openapi v3 that declares `fieldValidation`, so kubectl create/apply need no
 * `--validate=false` (nothing is validated, though).
 * Not served: auth/RBAC, server-side apply (apply patches are merged), subresources other than `/status`,
 * admission, garbage collection, graceful deletion, openapi v2 and schemas, CRD schema validation,
 * defaulting and version conversion, set-based selectors, namespace existence, aggregated discovery
 * (kubectl falls back). Core types answer plain lists, not Tables. client-node's ListWatch never asks for
 * bookmarks itself: put `allowWatchBookmarks=true` in the informer's path. kubectl must run asynchronously
 * (execFile), since the server lives in the test's own process; give it its own `--cache-dir` when types
 * change under it.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { serveCrds } from './kube-api/crd.js';
import { startHttp, type LoggedRequest } from './kube-api/server.js';
import { CORE_TYPES, Store, type KubeObject, type PrinterColumn, type ResourceType } from './kube-api/store.js';
import { Watches, type WatchStats } from './kube-api/watch.js';
export { NODE_TYPE, nodeObject, type NodeSpec } from './kube-api/nodes.js';

export type { KubeObject, ResourceType, PrinterColumn, LoggedRequest };

export interface KubeApiOptions {
  /** Interval between BOOKMARK events on watches that asked for them (`allowWatchBookmarks=true`); 0 = never. Default 200 ms. */
  bookmarkIntervalMs?: number;
  /** How many changes the watch history keeps before the oldest fall off (then older watches get 410). Default 1000. */
  historyLimit?: number;
  /** Resource types served in addition to pods, namespaces and events (core v1, events.k8s.io/v1). */
  extraTypes?: ResourceType[];
  /**
   * CustomResourceDefinitions installed at start, before `objects`: each an object or the path of a YAML
   * file (every document in it is applied, CRD or not), as `kubectl apply -f` would.
   */
  crds?: Array<KubeObject | string>;
  /** Objects present at start (each `apply`d in order). */
  objects?: KubeObject[];
  /**
   * Called synchronously as each request arrives, before it is served: a test can change objects "between"
   * a client's read and its write (a concurrent editor), e.g. when the first PATCH arrives.
   */
  beforeRequest?: (r: LoggedRequest) => void;
}

/** Every document of a YAML (or JSON) file of Kubernetes objects, empty documents skipped. */
export function readKubeYaml(file: string): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`kube-api stand-in: ${file}: ${d.errors[0]!.message}`);
    return d.toJS() as KubeObject | null;
  }).filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

export interface KubeApi {
  url: string;
  port: number;
  store: Store;
  /** Every request, in arrival order (logged when it arrives). */
  requests: LoggedRequest[];
  /** Every line written to any watch stream. */
  sent: WatchStats['sent'];
  /** Writes `<dir>/kubeconfig` (context `standin`, fake bearer token) and returns its path. */
  kubeconfig(dir: string, namespace?: string): string;
  /**
   * Creates the object, or replaces it (keeping uid) when it exists, status included (the helper writes as
   * a controller with every right would; over HTTP, a type with a status subresource keeps status apart).
   * A CustomResourceDefinition starts serving its resources at once. Returns the stored object.
   */
  apply(obj: KubeObject): KubeObject;
  /** Deletes by kind (`Pod`) or resource (`pods`); `apiVersion` picks between same-named kinds. */
  remove(kind: string, namespace: string | undefined, name: string, apiVersion?: string): KubeObject;
  get(kind: string, namespace: string | undefined, name: string, apiVersion?: string): KubeObject;
  /** Current objects of a kind (all namespaces unless one is given). */
  list(kind: string, namespace?: string, apiVersion?: string): KubeObject[];
  /** Core v1 and events.k8s.io/v1 Events, optionally of one namespace. */
  events(namespace?: string): KubeObject[];
  /** Forget the watch history: a watch or continue token from an older resourceVersion now gets 410. */
  compact(): void;
  /** End every open watch stream (the client sees a clean end and must re-watch). */
  disconnectWatches(): void;
  readonly openWatches: number;
  /** Resolves with the first request (already logged or future) matching `pred`. */
  waitForRequest(pred: (r: LoggedRequest) => boolean, timeoutMs?: number): Promise<LoggedRequest>;
  /** Resolves once `pred` holds for what was sent on watch streams. */
  waitForSent(pred: (sent: WatchStats['sent']) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApi> {
  const store = new Store([...CORE_TYPES, ...(opts.extraTypes ?? [])], opts.historyLimit ?? 1000);
  serveCrds(store);
  const sent: WatchStats['sent'] = [];
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const stats: WatchStats = { sent, onSent: () => bus.emit('sent') };
  const watches = new Watches(store, opts.bookmarkIntervalMs ?? 200, stats);
  const requests: LoggedRequest[] = [];
  const { server, port } = await startHttp({
    store,
    watches,
    requests,
    onRequest: (r) => {
      opts.beforeRequest?.(r);
      bus.emit('request', r);
    },
  });
  const url = `http://127.0.0.1:${port}`;

  const typeOf = (kind: string, apiVersion?: string): ResourceType => {
    const all = [...store.types.values()].filter((t) => t.kind === kind || t.resource === kind || t.shortNames?.includes(kind));
    const t = apiVersion ? all.find((x) => (x.group ? `${x.group}/${x.version}` : x.version) === apiVersion) : all[0];
    if (!t) throw new Error(`kube-api stand-in: no resource type ${apiVersion ?? ''} ${kind}`);
    return t;
  };
  const nsOf = (t: ResourceType, ns: string | undefined): string | undefined => (t.namespaced ? (ns ?? 'default') : undefined);

  const waitUntil = (event: string, done: () => unknown, timeoutMs: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        bus.off(event, check);
        resolve();
      };
      const timer = setTimeout(() => {
        bus.off(event, check);
        reject(new Error(`kube-api stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      bus.on(event, check);
      check();
    });

  const api: KubeApi = {
    url,
    port,
    store,
    requests,
    sent,
    kubeconfig(dir, namespace = 'default') {
      const cfg = {
        apiVersion: 'v1',
        kind: 'Config',
        // client-node's generated API clients refuse plain http unless TLS verification is off.
        clusters: [{ name: 'standin', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'standin', user: { token: 'standin-token' } }],
        contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'standin', namespace } }],
        'current-context': 'standin',
      };
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, JSON.stringify(cfg, null, 2), { mode: 0o600 });
      return file;
    },
    apply(obj) {
      const t = typeOf(obj.kind ?? '', obj.apiVersion);
      const ns = nsOf(t, obj.metadata?.namespace);
      const name = obj.metadata?.name ?? '';
      if (name && store.list(t, { namespace: ns, fieldSelector: `metadata.name=${name}` }).items.length > 0) {
        const body = structuredClone(obj);
        if (body.metadata) delete body.metadata.resourceVersion;
        return store.update(t, ns, name, body);
      }
      return store.create(t, ns, obj);
    },
    remove: (kind, ns, name, apiVersion) => {
      const t = typeOf(kind, apiVersion);
      return store.delete(t, nsOf(t, ns), name);
    },
    get: (kind, ns, name, apiVersion) => {
      const t = typeOf(kind, apiVersion);
      return store.get(t, nsOf(t, ns), name);
    },
    list: (kind, ns, apiVersion) => store.list(typeOf(kind, apiVersion), { namespace: ns }).items,
    events: (ns) => [...store.types.values()].filter((t) => t.kind === 'Event').flatMap((t) => store.list(t, { namespace: ns }).items),
    compact: () => store.compact(),
    disconnectWatches: () => watches.disconnectAll(),
    get openWatches() {
      return watches.count;
    },
    async waitForRequest(pred, timeoutMs = 10_000) {
      let found: LoggedRequest | undefined;
      await waitUntil('request', () => (found = requests.find(pred)), timeoutMs, 'a matching request');
      return found!;
    },
    waitForSent: (pred, timeoutMs = 10_000) => waitUntil('sent', () => pred(sent), timeoutMs, 'matching watch events'),
    async close() {
      watches.disconnectAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  for (const c of opts.crds ?? []) for (const o of typeof c === 'string' ? readKubeYaml(c) : [c]) api.apply(o);
  for (const o of opts.objects ?? []) api.apply(o);
  return api;
}
