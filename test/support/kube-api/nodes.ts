/**
 * Node objects for the stand-in (cluster-scoped, `/api/v1/nodes/{name}`, with the `/status` subresource as
 * on a real server): served only when asked, `startKubeApi({ extraTypes: [NODE_TYPE] })`, so the discovery
 * other tests see stays as it was. GET, list/watch and every PATCH kind (json-patch `test` ops included)
 * work as for any type.
 */
import type { KubeObject, ResourceType } from './store.js';

export const NODE_TYPE: ResourceType = { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: { status: {} } };

export interface NodeSpec {
  labels?: Record<string, string>;
  taints?: Array<{ key: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'; value?: string; timeAdded?: string }>;
}

/** A Node as a kubelet registers it (the labels it sets itself, plus `labels`), with `taints`. */
export function nodeObject(name: string, spec: NodeSpec = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...spec.labels } },
    spec: spec.taints ? { taints: spec.taints } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}
