/**
 * The one way ferry reaches the Kubernetes API. `@kubernetes/client-node`
 * costs ~0.6 s and ~75 MB to import, so it is loaded here, on demand, and
 * only when a kubeconfig (`KUBECONFIG`) or an in-cluster service account
 * (`KUBERNETES_SERVICE_HOST`) says there is a cluster to talk to.
 */
import { existsSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';

/** Where the kubelet mounts a pod's service account token (absent when automountServiceAccountToken is false). */
const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubeModule = typeof k8s;

export interface KubeClient {
  /** The loaded client-node module (informers, API classes). */
  k8s: KubeModule;
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** The API server's URL, for logs. */
  server: string;
}

/**
 * Whether this process was given a cluster to talk to: a kubeconfig, or a
 * pod with its service account token mounted. Every pod has
 * KUBERNETES_SERVICE_HOST; roles without API access run without a token
 * (deploy/base), and must not try.
 */
export function hasCluster(env: NodeJS.ProcessEnv, tokenFile = IN_CLUSTER_TOKEN): boolean {
  return Boolean(env.KUBECONFIG || (env.KUBERNETES_SERVICE_HOST && existsSync(tokenFile)));
}

/** Loads client-node and the kubeconfig (first file of `KUBECONFIG`, else in-cluster); undefined without a cluster. */
export async function connectKube(env: NodeJS.ProcessEnv): Promise<KubeClient | undefined> {
  if (!hasCluster(env)) return undefined;
  const mod = await import('@kubernetes/client-node');
  const config = new mod.KubeConfig();
  if (env.KUBECONFIG) config.loadFromFile(env.KUBECONFIG.split(':')[0]!);
  else config.loadFromCluster();
  return { k8s: mod, config, core: config.makeApiClient(mod.CoreV1Api), server: config.getCurrentCluster()?.server ?? '' };
}
