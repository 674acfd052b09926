import type { ResourceType, Store } from './store.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/**
 * The discovery documents kubectl reads before anything else (the legacy, unaggregated form, which kubectl
 * falls back to); undefined when the path is not one. Read from the store on every request, so a type a
 * CRD registers is discoverable at once.
 */
export function discovery(store: Store, path: string, host: string): unknown {
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
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: here.flatMap((t) => [
      {
        name: t.resource,
        singularName: t.singular ?? t.kind.toLowerCase(),
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: t.verbs ?? VERBS,
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
      },
      ...(servesStatus(t) ? [{ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ]),
  };
}

/**
 * Is `/status` served? Custom resources: only when their version declares the subresource (as on the real
 * server). Other types: always (without a declared subresource it writes the whole object).
 */
export const servesStatus = (t: ResourceType): boolean => Boolean(t.subresources?.status || !t.crd);

/**
 * A minimal OpenAPI v3 (`/openapi/v3` and one document per group version): no schemas, only each type's
 * PATCH operation declaring the `fieldValidation` query parameter. That is what kubectl looks for to leave
 * validation to the server (it sends `fieldValidation=Strict`, which the stand-in ignores: nothing is
 * validated), so `kubectl apply`/`create` work without `--validate=false`. Strategic merge is not declared,
 * so kubectl keeps computing those patches from its built-in types. undefined when the path is not one.
 */
export function openapiV3(store: Store, path: string): unknown {
  const types = [...store.types.values()];
  const gvPath = (t: ResourceType): string => (t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`);
  const p = path.replace(/\/+$/, '');
  if (p === '/openapi/v3') {
    const gvs = [...new Set(types.map(gvPath))];
    return { paths: Object.fromEntries(gvs.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${hashOf(types.filter((t) => gvPath(t) === gv))}` }])) };
  }
  if (!p.startsWith('/openapi/v3/')) return undefined;
  const here = types.filter((t) => gvPath(t) === p.slice('/openapi/v3/'.length));
  if (here.length === 0) return undefined;
  const param = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };
  const content = Object.fromEntries(['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'].map((c) => [c, { schema: { type: 'object' } }]));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-ferry-standin' },
    paths: Object.fromEntries(here.map((t) => [
      `/${gvPath(t)}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.resource}/{name}`,
      { patch: { operationId: `patch${t.kind}`, parameters: [param], requestBody: { content }, responses: { '200': { description: 'OK' } }, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind } } },
    ])),
    components: { schemas: {} },
  };
}

function hashOf(types: ResourceType[]): string {
  let h = 0;
  for (const ch of JSON.stringify(types)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0');
}
