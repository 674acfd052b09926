import type { ServerResponse } from 'node:http';
import { matcher, StatusError, typeKey, type KubeObject, type ResourceType, type Store, type StoredEvent } from './store.js';

export interface WatchParams {
  namespace?: string;
  /** Undefined, '' or '0': start with a synthetic ADDED for every current object, then live events. */
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** What an ADDED/MODIFIED/DELETED event carries instead of the object (a one-row Table for kubectl get -w). */
  render?: (o: KubeObject) => unknown;
}

export interface WatchStats {
  /** Every line written to a watch stream, in order (type and the resourceVersion it carried). */
  sent: Array<{ type: string; resourceVersion: string; path: string }>;
  onSent?: () => void;
}

/** Open watch streams; `disconnectAll()` ends them as a server restart or a load balancer would. */
export class Watches {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly bookmarkIntervalMs: number,
    readonly stats: WatchStats,
  ) {}

  get count(): number {
    return this.open.size;
  }

  disconnectAll(): void {
    for (const end of [...this.open]) end();
  }

  serve(t: ResourceType, p: WatchParams, path: string, res: ServerResponse): void {
    const match = matcher(p.labelSelector, p.fieldSelector);
    const inScope = (o: KubeObject): boolean => (!p.namespace || o.metadata?.namespace === p.namespace) && match(o);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const write = (type: string, object: KubeObject): void => {
      this.stats.sent.push({ type, resourceVersion: object.metadata?.resourceVersion ?? '', path });
      const carried = p.render && type !== 'ERROR' && type !== 'BOOKMARK' ? p.render(object) : object;
      res.write(JSON.stringify({ type, object: carried }) + '\n');
      this.stats.onSent?.();
    };

    let backlog: StoredEvent[];
    const rvParam = p.resourceVersion;
    try {
      if (rvParam === undefined || rvParam === '' || rvParam === '0') {
        backlog = [];
        for (const o of this.store.list(t, { namespace: p.namespace }, false).items) if (match(o)) write('ADDED', o);
      } else {
        const n = Number(rvParam);
        if (!Number.isInteger(n) || n < 0) throw new StatusError(400, 'BadRequest', `invalid resource version "${rvParam}"`);
        backlog = this.store.since(typeKey(t), n);
      }
    } catch (err) {
      // The real apiserver answers an expired watch with 200 and one ERROR event carrying the Status.
      if (!(err instanceof StatusError)) throw err;
      write('ERROR', statusObject(err));
      res.end();
      return;
    }

    const key = typeKey(t);
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    const end = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      unwatchType();
      for (const tm of timers) clearTimeout(tm);
      this.open.delete(end);
      res.end();
    };
    const unsubscribe = this.store.subscribe((e) => {
      if (e.key === key && inScope(e.object)) write(e.type, e.object);
    });
    // A type that stops being served (its CRD deleted) ends its watches, as on the real server.
    const unwatchType = this.store.onUnregister((k) => k === key && end());
    for (const e of backlog) if (inScope(e.object)) write(e.type, e.object);
    this.open.add(end);
    res.on('close', end);

    if (p.allowWatchBookmarks && this.bookmarkIntervalMs > 0) {
      const bm = setInterval(() => {
        write('BOOKMARK', { kind: t.kind, apiVersion: t.group ? `${t.group}/${t.version}` : t.version, metadata: { resourceVersion: String(this.store.resourceVersion) } });
      }, this.bookmarkIntervalMs);
      timers.push(bm);
    }
    if (p.timeoutSeconds && p.timeoutSeconds > 0) timers.push(setTimeout(end, p.timeoutSeconds * 1000));
  }
}

export function statusObject(err: StatusError): KubeObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details ? { details: err.details } : {}),
    code: err.code,
  };
}
