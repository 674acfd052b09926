/**
 * What every caller here wraps around client-node's calls: the status code
 * and the API's own message read off its errors (never request headers), a
 * deadline on a list, and a watch that never throws from where nobody
 * awaits it.
 */
import type { Informer, KubernetesListObject, KubernetesObject, ObjectCache, Watch } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

/** The HTTP status client-node put on an error (its ApiException `code`, or a status field), if any. */
export function statusCodeOf(e: unknown): number | undefined {
  const o = e as { code?: unknown; statusCode?: unknown; status?: unknown } | null;
  for (const v of [o?.code, o?.statusCode, o?.status]) if (typeof v === 'number') return v;
  return undefined;
}

/** One line about a failed call: the status and the API's own message, never request headers. */
export function describeApiError(e: unknown): string {
  const status = statusCodeOf(e);
  if (status === undefined) return e instanceof Error ? e.message : String(e);
  let body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      /* plain text */
    }
  }
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
  return `HTTP ${status}${typeof message === 'string' && message ? `: ${message.slice(0, 300)}` : ''}`;
}

/** `p`, or a rejection naming `what` once `ms` pass (the request itself is not cancelled). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the Kubernetes API did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * `watch`, for a ListWatch: client-node re-watches from callbacks nobody
 * awaits, so a watch that cannot start (credentials an exec plugin fails to
 * refresh) would be an unhandled rejection, the process's end: here it is
 * the watch's error. And client-node watches after a list even when the
 * informer was stopped meanwhile: once `current()` is false, none starts.
 */
function guardedWatch(watch: Pick<Watch, 'watch'>, current: () => boolean): Watch {
  const guarded: Pick<Watch, 'watch'> = {
    watch: async (path, params, callback, done) => {
      if (!current()) return new AbortController();
      try {
        return await watch.watch(path, params, callback, done);
      } catch (e) {
        done(e);
        return new AbortController();
      }
    },
  };
  return guarded as Watch;
}

/** What a ListWatch reports, each call made only while its informer is `current()`. */
export interface ListWatchHandlers<T> {
  put(o: T): void;
  drop(o: T): void;
  error(e: unknown): void;
}

/**
 * A client-node ListWatch of `path` (not started) over `list`, with the
 * guarded watch above, whose events reach `on` only while `current()`: an
 * informer replaced after an error keeps talking, and must not be heard.
 */
export function currentListWatch<T extends KubernetesObject>(
  kube: KubeClient,
  path: string,
  current: () => boolean,
  list: () => Promise<KubernetesListObject<T>>,
  on: ListWatchHandlers<T>,
): Informer<T> & ObjectCache<T> {
  const informer = new kube.k8s.ListWatch<T>(path, guardedWatch(new kube.k8s.Watch(kube.config), current), list, false);
  informer.on('add', (o) => current() && on.put(o));
  informer.on('update', (o) => current() && on.put(o));
  informer.on('delete', (o) => current() && on.drop(o));
  informer.on('error', (err) => current() && on.error(err));
  return informer;
}
