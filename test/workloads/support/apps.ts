/**
 * apps/v1 for the stand-in Kubernetes API (test/support/kube-api.ts serves only core types unless told):
 * `startKubeApi({ extraTypes: APPS_TYPES })`, and a Deployment/StatefulSet/DaemonSet builder.
 */
import type { KubeObject, ResourceType } from '../../support/kube-api.js';

/** Deployments, StatefulSets and DaemonSets as the API server serves them (kubectl's short names included). */
export const APPS_TYPES: ResourceType[] = [
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], subresources: { status: {}, scale: {} } },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'], subresources: { status: {}, scale: {} } },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], subresources: { status: {} } },
];

export interface WorkloadOptions {
  replicas?: number;
  nodeSelector?: Record<string, string>;
  /** The pod template's annotations. */
  annotations?: Record<string, string>;
  /** More of the pod template's spec (affinity, tolerations). */
  podSpec?: Record<string, unknown>;
}

/** A workload of `kind` whose template runs one container per image (`c0`, `c1`, ...). */
export function workload(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', ns: string, name: string, images: string[], o: WorkloadOptions = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns },
    spec: {
      ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: { containers: images.map((image, n) => ({ name: `c${n}`, image })), ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), ...o.podSpec },
      },
    },
  };
}
