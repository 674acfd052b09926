/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1): writing one serves each of its served versions as a
 * resource type at once (discovery included), with its scope, names, subresources and printer columns;
 * deleting it deletes its objects (each a DELETED event) and stops serving them. The CRD's status says
 * NamesAccepted and Established at once, so `kubectl wait --for condition=established` returns immediately.
 * Versions share no storage (no conversion): a multi-version CRD's versions hold separate objects.
 */
import { StatusError } from './errors.js';
import { typeKey, type KubeObject, type PrinterColumn, type ResourceType, type Store, type StoreHook, type StoredEvent } from './store.js';

export const CRD_GROUP = 'apiextensions.k8s.io';

interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  subresources?: ResourceType['subresources'];
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions?: CrdVersion[];
}

const isCrdType = (t: ResourceType): boolean => t.group === CRD_GROUP && t.resource === 'customresourcedefinitions';

/** The resource types a CRD serves; a CRD the real server would refuse is 422 Invalid. */
export function typesOfCrd(crd: KubeObject): ResourceType[] {
  const spec = (crd.spec ?? {}) as CrdSpec;
  const name = crd.metadata?.name ?? '';
  const invalid = (why: string): StatusError =>
    new StatusError(422, 'Invalid', `CustomResourceDefinition.apiextensions.k8s.io "${name}" is invalid: ${why}`, { name, group: CRD_GROUP, kind: 'CustomResourceDefinition' });
  const { group, names, scope, versions } = spec;
  if (!group || !group.includes('.')) throw invalid('spec.group: Invalid value: should be a domain with at least one dot');
  if (!names?.plural || !names.kind) throw invalid('spec.names.plural, spec.names.kind: Required value');
  if (name !== `${names.plural}.${group}`) throw invalid(`metadata.name: Invalid value: "${name}": must be spec.names.plural+"."+spec.group`);
  if (scope !== 'Namespaced' && scope !== 'Cluster') throw invalid(`spec.scope: Unsupported value: "${scope ?? ''}": supported values: "Cluster", "Namespaced"`);
  if (!Array.isArray(versions) || versions.length === 0) throw invalid('spec.versions: Invalid value: must have exactly one version marked as storage version');
  if (versions.filter((v) => v.storage).length !== 1) throw invalid('spec.versions: Invalid value: must have exactly one version marked as storage version');
  return versions
    .filter((v) => v.served !== false && v.name)
    .map((v) => ({
      group,
      version: v.name!,
      resource: names.plural!,
      kind: names.kind!,
      namespaced: scope === 'Namespaced',
      ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
      singular: names.singular ?? names.kind!.toLowerCase(),
      ...(names.categories?.length ? { categories: names.categories } : {}),
      ...(v.subresources ? { subresources: v.subresources } : {}),
      ...(v.additionalPrinterColumns?.length ? { printerColumns: v.additionalPrinterColumns } : {}),
      crd: name,
    }));
}

/** What the real server's controllers write on an accepted CRD (the first transition time kept). */
function acceptedStatus(crd: KubeObject, cur: KubeObject | undefined): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const before = ((cur?.status as { conditions?: Array<{ type: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? []);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const since = (type: string): string => before.find((c) => c.type === type)?.lastTransitionTime ?? now;
  const n = spec.names!;
  return {
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: since('Established') },
    ],
    acceptedNames: {
      plural: n.plural,
      singular: n.singular ?? n.kind!.toLowerCase(),
      kind: n.kind,
      listKind: n.listKind ?? `${n.kind}List`,
      ...(n.shortNames?.length ? { shortNames: n.shortNames } : {}),
      ...(n.categories?.length ? { categories: n.categories } : {}),
    },
    storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
  };
}

/** Installs the CRD behaviour on a store. */
export function serveCrds(store: Store): void {
  const servedBy = new Map<string, ResourceType[]>();
  const hook: StoreHook = {
    prepare(t, next, cur) {
      if (!isCrdType(t)) return;
      typesOfCrd(next); // validates
      if (cur && (cur.spec as CrdSpec).group !== (next.spec as CrdSpec).group) throw new StatusError(422, 'Invalid', 'spec.group: Invalid value: field is immutable');
      next.status = acceptedStatus(next, cur);
    },
    deleting(t, cur) {
      if (!isCrdType(t)) return;
      for (const rt of servedBy.get(cur.metadata?.name ?? '') ?? []) {
        for (const o of store.list(rt).items) store.delete(rt, o.metadata?.namespace, o.metadata?.name ?? '');
      }
    },
    committed(t: ResourceType, e: StoredEvent) {
      if (!isCrdType(t)) return;
      const name = e.object.metadata?.name ?? '';
      const before = servedBy.get(name) ?? [];
      const now = e.type === 'DELETED' ? [] : typesOfCrd(e.object);
      const keep = new Set(now.map(typeKey));
      for (const old of before) if (!keep.has(typeKey(old))) store.unregister(old, e.type === 'DELETED');
      for (const nt of now) store.register(nt);
      if (now.length > 0) servedBy.set(name, now);
      else servedBy.delete(name);
    },
  };
  store.hooks.push(hook);
}
