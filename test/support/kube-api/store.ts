import { randomUUID } from 'node:crypto';
import { StatusError } from './errors.js';
import { applyPatch, type PatchKind } from './patch.js';
import { decodeContinue, encodeContinue, firstAfter, matcher } from './listing.js';

export { StatusError };
export { mergePatch } from './patch.js';
export { matcher } from './listing.js';

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
  /** `names.singular` of a CRD (discovery's singularName); default: the kind in lower case. */
  singular?: string;
  categories?: string[];
  /**
   * The subresources the type declares (a CRD version's `subresources`). With `status`, `.../<name>/status`
   * writes only `.status`, writes of the object itself keep the stored `.status`, and status writes never
   * bump `metadata.generation`. Without it (plain `extraTypes`), `/status` writes the whole object.
   */
  subresources?: { status?: Record<string, unknown>; scale?: Record<string, unknown> };
  /** A CRD version's additionalPrinterColumns: the Table kubectl prints (table.ts). */
  printerColumns?: PrinterColumn[];
  /** Set on a type a CustomResourceDefinition registered: that CRD's name (`widgets.example.com`). */
  crd?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

/**
 * Who writes: `object` (POST/PUT/PATCH on the object: `.status` is kept as stored when the type has a status
 * subresource), `status` (the `/status` subresource: only `.status` changes), `any` (the test helper, a
 * controller with every right: the body is taken whole).
 */
export type WriteScope = 'object' | 'status' | 'any';

/** Called by the store around writes; the CRD registry (crd.ts) is one. */
export interface StoreHook {
  /** Before an object is written (create or update): may change `next`, or throw a StatusError to refuse it. */
  prepare?(t: ResourceType, next: KubeObject, cur: KubeObject | undefined): void;
  /** Before an object is deleted. */
  deleting?(t: ResourceType, cur: KubeObject): void;
  /** After a change is recorded, before any watch hears of it. */
  committed?(t: ResourceType, e: StoredEvent): void;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  /** `group/version/resource` of the object. */
  key: string;
  object: KubeObject;
}

export const CORE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'] },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: { status: {} },
  },
];

/** Custom resources and types with a status subresource carry metadata.generation (core pods here do not). */
const tracksGeneration = (t: ResourceType): boolean => Boolean(t.crd || t.subresources);
const hasStatus = (t: ResourceType): boolean => Boolean(t.subresources?.status);

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
  readonly hooks: StoreHook[] = [];
  private readonly unregisterListeners = new Set<(key: string) => void>();
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

  /** Serves a type (replacing the definition of one already served, objects kept). */
  register(t: ResourceType): void {
    this.types.set(typeKey(t), t);
    if (!this.objects.has(typeKey(t))) this.objects.set(typeKey(t), new Map());
  }

  /** Stops serving a type; `dropObjects` forgets its objects too (silently: delete them first for events). */
  unregister(t: ResourceType, dropObjects: boolean): void {
    this.types.delete(typeKey(t));
    for (const fn of this.unregisterListeners) fn(typeKey(t));
    if (dropObjects) {
      this.objects.delete(typeKey(t));
      this.sortedKeys.delete(typeKey(t));
    }
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

  /** Calls `fn` with the key (`group/version/resource`) of each type that stops being served. */
  onUnregister(fn: (key: string) => void): () => void {
    this.unregisterListeners.add(fn);
    return () => this.unregisterListeners.delete(fn);
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

  create(t: ResourceType, ns: string | undefined, body: KubeObject, scope: WriteScope = 'any'): KubeObject {
    const obj = clone(body);
    if (scope !== 'any' && hasStatus(t)) delete obj.status;
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
    if (tracksGeneration(t)) md.generation = 1;
    else delete md.generation;
    for (const h of this.hooks) h.prepare?.(t, obj, undefined);
    return this.commit(t, k, 'ADDED', obj);
  }

  /**
   * Replaces an object (`scope`: which part a caller may write, see WriteScope). A stale
   * `metadata.resourceVersion` in the body answers 409 Conflict, as the real server does.
   */
  update(t: ResourceType, ns: string | undefined, name: string, body: KubeObject, scope: WriteScope = 'any'): KubeObject {
    const k = objKey(t.namespaced ? ns : undefined, name);
    const cur = this.bucket(t).get(k);
    if (!cur) throw notFound(t, name);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new StatusError(400, 'BadRequest', 'a JSON object body is required');
    const sentRv = body.metadata?.resourceVersion;
    if (sentRv && sentRv !== cur.metadata?.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resourceName(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: t.group, kind: t.resource });
    }
    let obj: KubeObject;
    if (scope === 'status' && hasStatus(t)) {
      // Only .status comes from the body; a body without one clears it (as the real status strategy does).
      obj = clone(cur);
      if ('status' in body) obj.status = clone(body.status);
      else delete obj.status;
    } else {
      obj = clone(body);
      if (scope === 'object' && hasStatus(t)) {
        if (cur.status === undefined) delete obj.status;
        else obj.status = clone(cur.status);
      }
    }
    const md = (obj.metadata ??= {});
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    md.name = name;
    if (t.namespaced) md.namespace = cur.metadata?.namespace;
    md.uid = cur.metadata?.uid;
    md.creationTimestamp = cur.metadata?.creationTimestamp;
    for (const h of this.hooks) h.prepare?.(t, obj, cur);
    if (tracksGeneration(t)) {
      const gen = Number(cur.metadata?.generation ?? 1);
      md.generation = sameDesiredState(t, cur, obj) ? gen : gen + 1;
    } else delete md.generation;
    // A write that changes nothing is a no-op over HTTP, as on the real server: no new resourceVersion, no
    // event. The test helper (`any`) always records a change, so a test can provoke a MODIFIED at will.
    if (scope !== 'any' && canonical(withoutRv(obj)) === canonical(withoutRv(cur))) return clone(cur);
    return this.commit(t, k, 'MODIFIED', obj);
  }

  /**
   * A merge patch (RFC 7386; strategic-merge and apply patches are applied as one: lists are replaced, not
   * merged by key) or a json-patch (RFC 6902), applied to the stored object and then written as `update` does.
   */
  patch(t: ResourceType, ns: string | undefined, name: string, patch: unknown, kind: PatchKind = 'merge', scope: WriteScope = 'any'): KubeObject {
    const cur = this.get(t, ns, name);
    const patched = applyPatch(kind, cur, patch) as KubeObject;
    if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw new StatusError(422, 'Invalid', 'the patched object is not a JSON object');
    // A resourceVersion the patch itself sets is a precondition (as on the real server); otherwise none.
    if (patched.metadata && patched.metadata.resourceVersion === cur.metadata?.resourceVersion) delete patched.metadata.resourceVersion;
    return this.update(t, ns, name, patched, scope);
  }

  delete(t: ResourceType, ns: string | undefined, name: string): KubeObject {
    const k = objKey(t.namespaced ? ns : undefined, name);
    const cur = this.bucket(t).get(k);
    if (!cur) throw notFound(t, name);
    for (const h of this.hooks) h.deleting?.(t, clone(cur));
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
    for (const h of this.hooks) h.committed?.(t, e);
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

const resourceName = (t: ResourceType): string => (t.group ? `${t.resource}.${t.group}` : t.resource);

function notFound(t: ResourceType, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${resourceName(t)} "${name}" not found`, { name, group: t.group, kind: t.resource });
}

/** Everything but metadata (and status, when it is a subresource) unchanged: the generation stays. */
function sameDesiredState(t: ResourceType, a: KubeObject, b: KubeObject): boolean {
  const desired = (o: KubeObject): Record<string, unknown> => {
    const { metadata: _m, status, ...rest } = o;
    return hasStatus(t) ? rest : { ...rest, status };
  };
  return canonical(desired(a)) === canonical(desired(b));
}

const withoutRv = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });

/** JSON with object keys sorted, so that key order never counts as a change. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
