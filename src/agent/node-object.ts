/**
 * What the agent reads and writes on its own Node object: the labels
 * (agent.prepull nodeSelectors match them), the taints (workload tolerations
 * are judged against them) and the startup taint, removed
 * once every pre-pull image is present (docs/agent.md "Startup taint").
 *
 * The taint goes with a JSON patch that first `test`s each entry it removes
 * (same index, same key and effect): the kubelet, the node lifecycle
 * controller and cluster autoscalers edit taints too, and a patch computed
 * from a stale read must fail (422) instead of dropping or keeping the wrong
 * entry. On a failed test (or a 409) the node is read again and the patch
 * recomputed, a few times. The RBAC this needs is `get` and `patch` on nodes,
 * nothing else (deploy/components/agent).
 */
import { coreApiWithDeadline, describeApiError, statusCodeOf, type KubeClient } from '../kube/index.js';
import { describeError, isFerryError } from '../errors.js';
import { AGENT_ERROR_TABLE as E } from './errors.js';

/** What the agent plans with: the node's labels and taints as read. */
export interface NodeReading {
  labels: Record<string, string>;
  taints: TaintEntry[];
}

export interface NodeObjectClient {
  /** The node's labels and taints now (read on every call: labels change, e.g. by a node pool upgrade). */
  read(): Promise<NodeReading>;
  /** Removes every taint with `key` (whatever its effect): 'absent' when the node has none. */
  removeTaint(key: string): Promise<'removed' | 'absent'>;
}

export interface NodeObjectOptions {
  /** Reads and patches before giving up while the taints keep changing (default 5). */
  attempts?: number;
  /** Deadline of each API request (default 10 s). */
  timeoutMs?: number;
}

/** A taint as the API server stores it (only what the patch compares). */
export interface TaintEntry {
  key: string;
  effect: string;
  value?: string;
}

export type JsonPatchOp = { op: 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

/**
 * The JSON patch removing every taint with `key` from `taints` as read, each
 * removal preceded by `test`s that the entry at that index is still that
 * taint; highest index first, so the lower indices stay valid. undefined when
 * no taint has the key. Pure.
 */
export function taintRemovalPatch(taints: readonly TaintEntry[] | undefined, key: string): JsonPatchOp[] | undefined {
  const at = (taints ?? []).flatMap((t, i) => (t.key === key ? [i] : [])).reverse();
  if (at.length === 0) return undefined;
  return at.flatMap((i): JsonPatchOp[] => [
    { op: 'test', path: `/spec/taints/${i}/key`, value: key },
    { op: 'test', path: `/spec/taints/${i}/effect`, value: taints![i]!.effect },
    { op: 'remove', path: `/spec/taints/${i}` },
  ]);
}


export function nodeObjectClient(kube: KubeClient, nodeName: string, opts: NodeObjectOptions = {}): NodeObjectClient {
  const core = coreApiWithDeadline(kube, { timeoutMs: opts.timeoutMs ?? 10_000 });
  const attempts = Math.max(1, opts.attempts ?? 5);
  const jsonPatch = kube.k8s.setHeaderOptions('Content-Type', kube.k8s.PatchStrategy.JsonPatch);

  const notFound = () =>
    E.create('NODE_NOT_FOUND', `node ${JSON.stringify(nodeName)} does not exist`, { details: { node: nodeName } });

  const read = async () => {
    try {
      return await core.readNode({ name: nodeName });
    } catch (e) {
      if (statusCodeOf(e) === 404) throw notFound();
      throw E.create('NODE_UNREADABLE', `cannot read node ${nodeName}: ${describeApiError(e)}`, { cause: e, details: { node: nodeName } });
    }
  };

  return {
    async read() {
      const n = await read();
      const taints = (n.spec?.taints ?? []).flatMap((t): TaintEntry[] => (t.key && t.effect ? [{ key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) }] : []));
      return { labels: { ...(n.metadata?.labels ?? {}) }, taints };
    },


    async removeTaint(key) {
      let last = '';
      for (let i = 0; i < attempts; i++) {
        let node;
        try {
          node = await read();
        } catch (e) {
          if (isFerryError(e) && E.is(e, 'NODE_NOT_FOUND')) throw e;
          throw E.create('TAINT_FAILED', `cannot remove taint ${key} from node ${nodeName}: ${describeError(e)}`, { cause: e, details: { node: nodeName, key } });
        }
        const patch = taintRemovalPatch(node.spec?.taints as TaintEntry[] | undefined, key);
        if (!patch) return 'absent';
        try {
          await core.patchNode({ name: nodeName, body: patch }, jsonPatch);
          return 'removed';
        } catch (e) {
          const status = statusCodeOf(e);
          // 422: a `test` failed (the taints changed since the read); 409: a write conflict. Read again.
          if (status === 422 || status === 409) {
            last = describeApiError(e);
            continue;
          }
          if (status === 404) throw notFound();
          const hint = status === 403 ? 'the agent ServiceAccount may not patch nodes: bind it to ClusterRole ferry-agent (deploy/components/agent), which grants nodes get and patch' : undefined;
          throw E.create('TAINT_FAILED', `cannot remove taint ${key} from node ${nodeName}: ${describeApiError(e)}`, {
            cause: e,
            ...(hint ? { hint } : {}),
            details: { node: nodeName, key },
          });
        }
      }
      throw E.create('TAINT_FAILED', `the taints of node ${nodeName} changed under ${attempts} attempts to remove ${key} (last: ${last})`, {
        details: { node: nodeName, key },
      });
    },
  };
}
