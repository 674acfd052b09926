import type { Logger } from 'pino';
import { connectKube, hasCluster } from '../kube/index.js';
import type { NamespaceMeta } from '../policy/index.js';

export interface NamespaceCache {
  /** The namespace's annotations and labels (empty when unknown). */
  meta(namespace: string): NamespaceMeta;
  readonly source: 'informer' | 'config-only';
  close(): Promise<void>;
}

const EMPTY: NamespaceMeta = Object.freeze({ annotations: Object.freeze({}), labels: Object.freeze({}) }) as NamespaceMeta;

/** No cluster access: namespace rules come from config only. */
export function configOnlyNamespaces(): NamespaceCache {
  return { meta: () => EMPTY, source: 'config-only', close: async () => {} };
}


/**
 * Namespace annotations (and the `ferry.io/skip` label) are the defaults for
 * their pods, but an AdmissionReview carries only the pod: an informer keeps
 * every namespace's annotations and labels in memory (list + watch via @kubernetes/client-node). Without a
 * kubeconfig or in-cluster service account, namespace rules come from config
 * only, and the log says so.
 */
export async function startNamespaceCache(logger: Logger, mode: 'auto' | 'off', env: NodeJS.ProcessEnv = process.env): Promise<NamespaceCache> {
  if (mode === 'off' || !hasCluster(env)) {
    logger.info(
      { reason: mode === 'off' ? 'kubernetes.namespaceInformer: off' : 'no KUBECONFIG and not in a cluster' },
      'namespace annotations are not watched: namespace rules come from config only',
    );
    return configOnlyNamespaces();
  }
  const kube = (await connectKube(env))!; // hasCluster(env) held above
  const { k8s, config: kc, core: api } = kube;
  const map = new Map<string, NamespaceMeta>();
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces', () => api.listNamespace());
  const put = (ns: { metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string> } }) => {
    if (ns.metadata?.name) map.set(ns.metadata.name, { annotations: ns.metadata.annotations ?? EMPTY.annotations, labels: ns.metadata.labels ?? EMPTY.labels! });
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
    logger.info({ cluster: kube.server }, 'watching namespace annotations');
  } catch (e) {
    logger.warn({ err: String(e) }, 'cannot list namespaces; namespace annotations unavailable until the informer recovers');
  }
  return {
    meta: (ns) => map.get(ns) ?? EMPTY,
    source: 'informer',
    close: async () => {
      await informer.stop();
    },
  };
}
