/** Pull secrets as the API server stores them (data base64), for the stand-in Kubernetes API. */
import type { KubeObject, ResourceType } from '../../support/kube-api.js';

/** The stand-in serves Secrets only when asked (extraTypes). */
export const SECRET_TYPE: ResourceType = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };

/** registry key -> credentials; `as: 'fields'` writes username/password instead of `auth`. */
export type Auths = Record<string, { user: string; password: string; as?: 'auth' | 'fields' }>;

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function entries(auths: Auths): Record<string, object> {
  return Object.fromEntries(
    Object.entries(auths).map(([k, a]) => [k, a.as === 'fields' ? { username: a.user, password: a.password } : { auth: b64(`${a.user}:${a.password}`) }]),
  );
}

/** `kubernetes.io/dockerconfigjson` (what `kubectl create secret docker-registry` makes). */
export function dockerconfigjsonSecret(namespace: string, name: string, auths: Auths): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths: entries(auths) })) },
  };
}

/** The legacy `kubernetes.io/dockercfg`: the auths map itself. */
export function dockercfgSecret(namespace: string, name: string, auths: Auths): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(entries(auths))) } };
}
