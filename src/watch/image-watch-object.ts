/**
 * One ImageWatch object -> the watch it defines, or every problem with it.
 * Pure. The spec is checked by the rules of the watch API
 * (validateApiWatch: the config schema, cron, image reference, semver range,
 * tag filters), so a spec the file or the API would refuse is refused here
 * too. Used by the informer (resource-watches.ts) and by
 * `ferry check-config --resources`.
 */
import type { WatchConfig } from '../config/index.js';
import { isFerryError, describeError } from '../errors.js';
import { validateApiWatch, type ResourceWatch } from './definition.js';
import { IMAGE_WATCH_API_VERSION, IMAGE_WATCH_KIND } from './image-watch-crd.js';

/** The parts of an ImageWatch ferry reads (the informer's objects and parsed files). */
export interface ImageWatchObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string; creationTimestamp?: unknown };
  spec?: unknown;
  status?: Record<string, unknown>;
}

export type ParsedImageWatch =
  | { ok: true; id: string; watch: ResourceWatch }
  | { ok: false; id: string | undefined; problems: string[] };

/** DNS-1123 subdomain, what the API server requires of a name (and of a namespace, a label). */
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A problem as validateApiWatch words it (`field: ...` or a sentence), said of the spec. */
function specProblem(p: string): string {
  const q = p.replace(/^watch: */, '');
  return /^[A-Za-z][\w.]*: /.test(q) ? `spec.${q}` : `spec: ${q}`;
}

/** `<namespace>.<name>`: unique in a cluster, readable in logs and the API (`GET /api/watches/<id>`). */
export function imageWatchId(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

/**
 * Checks apiVersion, kind, metadata.name and the spec. `defaultNamespace`
 * names the id of an object without metadata.namespace (a file applied with
 * `kubectl apply -n`); the informer's objects always have one.
 */
export function parseImageWatch(obj: unknown, defaultNamespace = 'default'): ParsedImageWatch {
  const problems: string[] = [];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { ok: false, id: undefined, problems: ['not an object'] };
  const o = obj as ImageWatchObject;
  if (o.apiVersion !== IMAGE_WATCH_API_VERSION) problems.push(`apiVersion must be ${IMAGE_WATCH_API_VERSION}, got ${JSON.stringify(o.apiVersion ?? null)}`);
  if (o.kind !== IMAGE_WATCH_KIND) problems.push(`kind must be ${IMAGE_WATCH_KIND}, got ${JSON.stringify(o.kind ?? null)}`);
  const name = o.metadata?.name;
  const namespace = o.metadata?.namespace ?? defaultNamespace;
  if (typeof name !== 'string' || !name) problems.push('metadata.name is required');
  else if (name.length > 253 || !NAME_RE.test(name)) problems.push(`metadata.name "${name}" must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.')`);
  if (typeof namespace !== 'string' || namespace.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) problems.push(`metadata.namespace "${String(namespace)}" must be a DNS-1123 label`);
  const id = typeof name === 'string' && name ? imageWatchId(namespace, name) : undefined;
  const spec = o.spec;
  let config: WatchConfig | undefined;
  if (spec === undefined || spec === null) problems.push('spec is required');
  else if (typeof spec !== 'object' || Array.isArray(spec)) problems.push('spec must be an object');
  else {
    const body = { ...(spec as Record<string, unknown>) };
    if ('id' in body) {
      problems.push(`spec.id is not a field of an ImageWatch: its id is <namespace>.<name>${id ? ` ("${id}")` : ''}`);
      delete body.id;
    }
    try {
      config = validateApiWatch(id ?? 'unnamed', body);
    } catch (e) {
      const listed = isFerryError(e) && Array.isArray(e.details?.problems) ? (e.details.problems as string[]) : [describeError(e)];
      problems.push(...listed.filter((p) => !p.startsWith('id ')).map(specProblem));
    }
  }
  if (problems.length || !config || !id) return { ok: false, id, problems };
  return {
    ok: true,
    id,
    watch: {
      config: { ...config, id },
      resource: { namespace, name: name!, uid: o.metadata?.uid, generation: o.metadata?.generation },
    },
  };
}
