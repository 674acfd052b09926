/**
 * `GET /api/nodes` and `GET /api/nodes/:name`: what each node's agent last
 * published (src/nodes/node-state.ts, one Redis hash), each node marked
 * `stale` when its agent missed three resyncs (agent.resyncMs), plus the
 * counts the dashboard's Nodes view heads with. Reads only: like every read
 * of the API, open (docs/dashboard.md "Access").
 */
import type { FastifyInstance } from 'fastify';
import { isStale, NodeStateStore, type NodeState } from '../nodes/index.js';
import type { RoleContext } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { DASHBOARD_ERROR_TABLE, unavailable } from './errors.js';
import { within } from './usage.js';

export type NodeView = NodeState & { stale: boolean };

export interface NodesSummary {
  nodes: number;
  /** Nodes whose every pre-pull image is present (stale ones included: what they last said). */
  ready: number;
  stale: number;
  /** Pre-pull entries over every node, by status (pulling counts as pending). */
  images: { present: number; pending: number; error: number };
  /** Import-folder files over every node. */
  imports: { imported: number; error: number };
}

export interface NodesAnswer {
  nodes: NodeView[];
  summary: NodesSummary;
}

/** The list with staleness and the counts. Pure. */
export function nodesAnswer(states: readonly NodeState[], resyncMs: number, now = Date.now()): NodesAnswer {
  const nodes = states.map((s): NodeView => ({ ...s, stale: isStale(s, resyncMs, now) }));
  const summary: NodesSummary = { nodes: nodes.length, ready: 0, stale: 0, images: { present: 0, pending: 0, error: 0 }, imports: { imported: 0, error: 0 } };
  for (const n of nodes) {
    if (n.ready) summary.ready++;
    if (n.stale) summary.stale++;
    for (const p of n.prepull ?? []) {
      if (p.status === 'present') summary.images.present++;
      else if (p.status === 'error') summary.images.error++;
      else summary.images.pending++;
    }
    for (const f of n.imports ?? []) {
      if (f.status === 'imported') summary.imports.imported++;
      else if (f.status === 'error') summary.imports.error++;
    }
  }
  return { nodes, summary };
}

const READ_TIMEOUT_MS = 1500;

export function registerNodesApi(app: FastifyInstance, ctx: RoleContext): void {
  const store = new NodeStateStore(ctx.connection, ctx.config().queue.prefix);
  const resyncMs = () => ctx.config().agent.resyncMs;

  const list = async (): Promise<NodeState[]> => {
    // Node state is in Redis only: no copy in memory to answer from while it is away.
    if (ctx.connection.status !== 'ready') throw unavailable('cannot read the node agents\' state');
    try {
      return await within(store.list(), READ_TIMEOUT_MS, 'node state');
    } catch (e) {
      throw unavailable(`cannot read the node agents' state (${describeError(e)})`);
    }
  };

  app.get('/api/nodes', async () => nodesAnswer(await list(), resyncMs()));

  app.get('/api/nodes/:name', async (req) => {
    const name = (req.params as { name: string }).name;
    const node = nodesAnswer(await list(), resyncMs()).nodes.find((n) => n.node === name);
    if (!node) {
      throw DASHBOARD_ERROR_TABLE.create('NODE_NOT_FOUND', `no agent has published state for node ${JSON.stringify(name)}`, { details: { node: name } });
    }
    return node;
  });
}
