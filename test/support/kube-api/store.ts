import { randomUUID } from 'node:crypto';

/** A Kubernetes object as JSON; only `metadata` is looked at by the store. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** One served resource type. Register more (other groups, CRDs) with `Store.register`. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, as in the URL: `pods`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs?: string[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  /** `group/version/resource` of the object. */
  key: string;
  object: KubeObject;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const CORE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'] },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
];

export const typeKey = (t: Pick<ResourceType, 'group' | 'version' | 'resource'>): string => `${t.group}/${t.version}/${t.resource}`;
export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);
const objKey = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

export interface ListOptions {
  namespace?: string;
  limit?: number;
  continue?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListResult {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
  items: KubeObject[];
}

/**
 * In-memory objects of every registered type, one global resourceVersion counter (like etcd's revision)
 * and a bounded history of changes that watches replay from. `compact()` forgets the history, so a watch
 * or a continue token from before it gets 410 Expired.
 */
export class Store {
  readonly types = new Map<string, ResourceType>();
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  private rv = 1;
  /** Oldest resourceVersion a watch may start from (history holds everything after it). */
  private compactedRv = 1;
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  /**
   * Each bucket's keys in list order, rebuilt by the first list after a create
   * or delete: a paged list of 50,000 pods would otherwise sort them all per page.
   */
  private readonly sortedKeys = new Map<string, string[]>();

  constructor(
    types: ResourceType[] = CORE_TYPES,
    private readonly historyLimit = 1000,
  ) {
    for (const t of types) this.register(t);
  }

  register(t: ResourceType): void {
    this.types.set(typeKey(t), t);
    if (!this.objects.has(typeKey(t))) this.objects.set(typeKey(t), new Map());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  /** Events of type `key` after `rv`; throws 410 when `rv` is older than the retained history. */
  since(key: string, rv: number): StoredEvent[] {
    if (rv < this.compactedRv) throw gone(`too old resource version: ${rv} (${this.compactedRv})`);
    return this.history.filter((e) => e.rv > rv && e.key === key);
  }

  subscribe(fn: (e: StoredEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  get(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    const o = this.bucket(t).get(objKey(t.namespaced ? ns : undefined, name));
    if (!o) throw notFound(t, name);
    return clone(o);
  }

  /**
   * A page of objects in key order. `copy: false` hands out the stored objects
   * themselves, for a caller that serializes them at once (the HTTP server)
   * and must never change them.
   */
  list(t: ResourceType, opts: ListOptions = {}, copy = true): ListResult {
    let snapshotRv = this.rv;
    let after = '';
    if (opts.continue) {
      const tok = decodeContinue(opts.continue);
      if (tok.rv < this.compactedRv) {
        throw new StatusError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      snapshotRv = tok.rv;
      after = tok.start;
    }
    const match = matcher(opts.labelSelector, opts.fieldSelector);
    const bucket = this.bucket(t);
    const keys = this.keysInOrder(t);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const page: KubeObject[] = [];
    let lastKey: string | undefined;
    let remaining = 0;
    const filtered = Boolean((t.namespaced && opts.namespace) || opts.labelSelector || opts.fieldSelector);
    for (let i = after ? firstAfter(keys, after) : 0; i < keys.length; i++) {
      if (page.length >= limit && !filtered) {
        remaining = keys.length - i; // every key left matches: no need to look
        break;
      }
      const o = bucket.get(keys[i]!)!;
      if ((t.namespaced && opts.namespace && o.metadata?.namespace !== opts.namespace) || !match(o)) continue;
      if (page.length < limit) {
        page.push(copy ? clone(o) : o);
        lastKey = keys[i];
      } else remaining++;
    }
    const res: ListResult = { resourceVersion: String(snapshotRv), items: page };
    if (remaining > 0) {
      res.continue = encodeContinue({ rv: snapshotRv, start: lastKey ?? after });
      res.remainingItemCount = remaining;
    }
    return res;
  }

  private keysInOrder(t: ResourceType): string[] {
    let keys = this.sortedKeys.get(typeKey(t));
    if (!keys) {
      keys = [...this.bucket(t).keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedKeys.set(typeKey(t), keys);
    }
    return keys;
  }

  create(t: ResourceType, ns: string | undefined, body: KubeObject): KubeObject {
    const obj = clone(body);
    const md = (obj.metadata ??= {});
    if (!md.name && md.generateName) md.name = md.generateName + randomUUID().slice(0, 5);
    if (!md.name) throw new StatusError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value`);
    if (t.namespaced) md.namespace = md.namespace ?? ns ?? 'default';
    else delete md.namespace;
    if (t.namespaced && ns && md.namespace !== ns) {
      throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const k = objKey(md.namespace, md.name);
    if (this.bucket(t).has(k)) throw new StatusError(409, 'AlreadyExists', `${t.resource} "${md.name}" already exists`, { name: md.name, kind: t.resource });
    this.sortedKeys.delete(typeKey(t));
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    md.uid = randomUUID();
    md.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (t.kind === 'Namespace') obj.status = { phase: 'Active', ...(obj.status as object | undefined) };
    return this.commit(t, k, 'ADDED', obj);
  }

  /** Replaces an object; a stale `metadata.resourceVersion` answers 409 Conflict, as the real server does. */
  update(t: ResourceType, ns: string | undefined, name: string, body: KubeObject): KubeObject {
    const k = objKey(t.namespaced ? ns : undefined, name);
    const cur = this.bucket(t).get(k);
    if (!cur) throw notFound(t, name);
    const obj = clone(body);
    const md = (obj.metadata ??= {});
    if (md.resourceVersion && md.resourceVersion !== cur.metadata?.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${t.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    md.name = name;
    if (t.namespaced) md.namespace = cur.metadata?.namespace;
    md.uid = cur.metadata?.uid;
    md.creationTimestamp = cur.metadata?.creationTimestamp;
    return this.commit(t, k, 'MODIFIED', obj);
  }

  /** RFC 7386 merge patch (used for strategic-merge patches too: lists are replaced, not merged by key). */
  patch(t: ResourceType, ns: string | undefined, name: string, patch: unknown): KubeObject {
    const cur = this.get(t, ns, name);
    const merged = mergePatch(cur, patch) as KubeObject;
    if (merged.metadata) merged.metadata.resourceVersion = cur.metadata?.resourceVersion;
    return this.update(t, ns, name, merged);
  }

  delete(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    const k = objKey(t.namespaced ? ns : undefined, name);
    const cur = this.bucket(t).get(k);
    if (!cur) throw notFound(t, name);
    this.bucket(t).delete(k);
    this.sortedKeys.delete(typeKey(t));
    return this.record(t, 'DELETED', clone(cur), ++this.rv);
  }

  private commit(t: ResourceType, k: string, type: WatchEventType, obj: KubeObject): KubeObject {
    const rv = ++this.rv;
    obj.metadata!.resourceVersion = String(rv);
    this.bucket(t).set(k, obj);
    return this.record(t, type, clone(obj), rv);
  }

  private record(t: ResourceType, type: WatchEventType, obj: KubeObject, rv: number): KubeObject {
    if (type === 'DELETED') obj.metadata!.resourceVersion = String(rv);
    const e: StoredEvent = { rv, type, key: typeKey(t), object: obj };
    this.history.push(e);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compactedRv = dropped.rv;
    }
    for (const fn of this.listeners) fn(e);
    return clone(obj);
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const b = this.objects.get(typeKey(t));
    if (!b) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${t.resource})`);
    return b;
  }
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

function notFound(t: ResourceType, name: string): StatusError {
  const resource = t.group ? `${t.resource}.${t.group}` : t.resource;
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, group: t.group, kind: t.resource });
}

/** Index of the first key greater than `after` in sorted `keys`. */
function firstAfter(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeContinue(tok: { rv: number; start: string }): string {
  return Buffer.from(JSON.stringify(tok)).toString('base64url');
}

function decodeContinue(s: string): { rv: number; start: string } {
  try {
    const tok = JSON.parse(Buffer.from(s, 'base64url').toString()) as { rv?: unknown; start?: unknown };
    if (typeof tok.rv === 'number' && typeof tok.start === 'string') return { rv: tok.rv, start: tok.start };
  } catch {
    /* fall through */
  }
  throw new StatusError(400, 'BadRequest', 'continue key is not valid');
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$retainKeys')) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const pathValue = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, p) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined), o);

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`) and field selectors on any dotted path. */
export function matcher(labelSelector?: string, fieldSelector?: string): (o: KubeObject) => boolean {
  const terms: Array<(o: KubeObject) => boolean> = [];
  for (const raw of (labelSelector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(!)?([^!=\s]+)\s*(?:(!=|==|=)\s*(.*))?$/.exec(raw);
    if (!m) throw new StatusError(400, 'BadRequest', `unable to parse requirement: ${raw}`);
    const [, not, key, op, val] = m;
    const labels = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
    if (!op) terms.push((o) => (key! in labels(o)) !== Boolean(not));
    else if (op === '!=') terms.push((o) => labels(o)[key!] !== val);
    else terms.push((o) => labels(o)[key!] === val);
  }
  for (const raw of (fieldSelector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(raw);
    if (!m) throw new StatusError(400, 'BadRequest', `invalid field selector: ${raw}`);
    const [, path, op, val] = m;
    const str = (o: KubeObject): string => String(pathValue(o, path!) ?? '');
    terms.push(op === '!=' ? (o) => str(o) !== val : (o) => str(o) === val);
  }
  return (o) => terms.every((t) => t(o));
}
