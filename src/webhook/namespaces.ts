import type { Logger } from 'pino';
import type { NamespaceAnnotations } from '../policy/index.js';

export interface NamespaceCache {
  annotations(namespace: string): NamespaceAnnotations;
  readonly source: 'informer' | 'config-only';
  close(): Promise<void>;
}

const EMPTY: NamespaceAnnotations = Object.freeze({}) as NamespaceAnnotations;

/** No cluster access: namespace rules come from config only. */
export function configOnlyNamespaces(): NamespaceCache {
  return { annotations: () => EMPTY, source: 'config-only', close: async () => {} };
}

function hasKubeconfig(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.KUBECONFIG || env.KUBERNETES_SERVICE_HOST);
}

/**
 * Namespace annotations are the defaults for their pods, but an
 * AdmissionReview carries only the pod: an informer keeps every namespace's
 * annotations in memory (list + watch via @kubernetes/client-node). Without a
 * kubeconfig or in-cluster service account, namespace rules come from config
 * only, and the log says so.
 */
export async function startNamespaceCache(logger: Logger, mode: 'auto' | 'off', env: NodeJS.ProcessEnv = process.env): Promise<NamespaceCache> {
  if (mode === 'off' || !hasKubeconfig(env)) {
    logger.info(
      { reason: mode === 'off' ? 'kubernetes.namespaceInformer: off' : 'no KUBECONFIG and not in a cluster' },
      'namespace annotations are not watched: namespace rules come from config only',
    );
    return configOnlyNamespaces();
  }
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG.split(':')[0]!);
  else kc.loadFromCluster();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const map = new Map<string, NamespaceAnnotations>();
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces', () => api.listNamespace());
  const put = (ns: { metadata?: { name?: string; annotations?: Record<string, string> } }) => {
    if (ns.metadata?.name) map.set(ns.metadata.name, ns.metadata.annotations ?? EMPTY);
  };
  informer.on('add', put);
  informer.on('update', put);
  informer.on('delete', (ns) => ns.metadata?.name && map.delete(ns.metadata.name));
  informer.on('error', (err: unknown) => {
    logger.warn({ err: String(err) }, 'namespace informer error; restarting in 5s (cached annotations stay in use)');
    setTimeout(() => void informer.start().catch(() => {}), 5000).unref();
  });
  try {
    await informer.start();
    logger.info({ cluster: kc.getCurrentCluster()?.server }, 'watching namespace annotations');
  } catch (e) {
    logger.warn({ err: String(e) }, 'cannot list namespaces; namespace annotations unavailable until the informer recovers');
  }
  return {
    annotations: (ns) => map.get(ns) ?? EMPTY,
    source: 'informer',
    close: async () => {
      await informer.stop();
    },
  };
}
