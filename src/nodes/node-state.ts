/**
 * What each node's agent publishes about itself, and where: one Redis hash
 * `<queue.prefix>:agent:nodes` (field = node name, value = JSON NodeState),
 * rewritten whole by the node's agent on every change and every resync.
 * The dashboard's `GET /api/nodes` reads it; nothing else writes it.
 *
 * A node whose `seenAt` is older than `staleAfterMs` is reported stale (its
 * agent is gone or cannot reach Redis); `removeStale` drops nodes gone for a
 * day so a scaled-down node pool does not stay listed forever.
 */
import type { Redis } from 'ioredis';

export type PrepullStatus = 'pending' | 'pulling' | 'present' | 'error';

/** One image the node should hold (from agent.prepull or the in-use index). */
export interface PrepullState {
  /** The image as configured or as pods name it (upstream form). */
  image: string;
  /** What the agent asks the runtime to pull: the mirror reference. */
  ref: string;
  /** Where the entry comes from. */
  source: 'config' | 'in-use' | 'workload';
  status: PrepullStatus;
  /** Repo digest the runtime reports (sha256:...), once present. */
  digest?: string;
  /** Image size the runtime reports, bytes. */
  bytes?: number;
  /** `[FERRY_ERR_...] message` of the last failure. */
  error?: string;
  /** Failed pulls since the last success. */
  attempts: number;
  /** ISO time of the last successful pull (or first seen present). */
  pulledAt?: string;
  /** ISO time of the next retry, while status is error. */
  retryAt?: string;
}

export type ImportStatus = 'pending' | 'importing' | 'imported' | 'error';

/** One tarball in the node's import folder. */
export interface NodeImportState {
  /** File name inside agent.importDir. */
  file: string;
  status: ImportStatus;
  size: number;
  /** Image names imported from it (e.g. docker.io/library/nginx:1.27). */
  images: string[];
  /** Manifest (or index) digests, one per name. */
  digests: string[];
  /** Bytes written to the content store by the last import (0 when all were present). */
  bytes?: number;
  error?: string;
  /** ISO time of the last attempt. */
  at?: string;
}

export interface NodeState {
  node: string;
  /** ISO time the agent last published (every resync at least). */
  seenAt: string;
  /** ferry version of the agent. */
  version: string;
  /** The runtime as CRI Version reports it, e.g. `containerd 1.6.20`. */
  runtime?: string;
  /** true once every pre-pull image is present. */
  ready: boolean;
  /** agent.startupTaint and whether the agent removed it (undefined when none is configured). */
  taint?: { key: string; removed: boolean; removedAt?: string; error?: string };
  prepull: PrepullState[];
  imports: NodeImportState[];
  /** Last runtime-level error (socket unreachable, ...), cleared on success. */
  error?: string;
}

export const nodeStateKey = (prefix: string): string => `${prefix}:agent:nodes`;

/** A day: a node not seen for this long is dropped by removeStale. */
export const NODE_FORGET_MS = 24 * 60 * 60 * 1000;

export class NodeStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async publish(state: NodeState): Promise<void> {
    await this.redis.hset(nodeStateKey(this.prefix), state.node, JSON.stringify(state));
  }

  /** Every node, sorted by name; a value that does not parse is skipped (never throws for one bad node). */
  async list(): Promise<NodeState[]> {
    const all = await this.redis.hgetall(nodeStateKey(this.prefix));
    const out: NodeState[] = [];
    for (const [node, raw] of Object.entries(all)) {
      try {
        const s = JSON.parse(raw) as NodeState;
        if (s && typeof s === 'object' && s.node === node) out.push(s);
      } catch {
        // a half-written or foreign value: not a node
      }
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  async get(node: string): Promise<NodeState | undefined> {
    return (await this.list()).find((n) => n.node === node);
  }

  /** Drops nodes not seen for `forgetMs`; returns their names. */
  async removeStale(now = Date.now(), forgetMs = NODE_FORGET_MS): Promise<string[]> {
    const gone = (await this.list()).filter((n) => now - Date.parse(n.seenAt) > forgetMs).map((n) => n.node);
    if (gone.length) await this.redis.hdel(nodeStateKey(this.prefix), ...gone);
    return gone;
  }
}

/** Whether a node's agent stopped publishing: three resyncs missed. */
export function isStale(state: NodeState, resyncMs: number, now = Date.now()): boolean {
  return now - Date.parse(state.seenAt) > 3 * resyncMs;
}
