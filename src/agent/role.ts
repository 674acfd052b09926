/**
 * `ferry agent`: one per node (DaemonSet). Keeps agent.prepull images present
 * in the node's runtime through CRI, imports archives dropped into
 * agent.importDir into the node's containerd, publishes what it did as this
 * node's NodeState, and removes agent.startupTaint once the pre-pulls are in.
 *
 * Composition only: plan.ts decides what to pull, prepuller.ts pulls,
 * imports.ts watches the folder, publisher.ts writes NodeState, taint.ts
 * handles the taint. Every resync (agent.resyncMs) re-reads the node's
 * labels and the in-use index, re-plans, re-checks and re-publishes.
 */
import { hostname } from 'node:os';
import type { Role, RoleContext } from '../runtime/index.js';
import { backoffDelay } from '../async/index.js';
import { connectCri, criAuthFor, CRI_ERROR_CODES, type CriImageService } from '../cri/index.js';
import { connectContainerd } from '../containerd/index.js';
import { describeError, isFerryError } from '../errors.js';
import { blockRuleFor } from '../policy/index.js';
import { InUseStore } from '../in-use/index.js';
import { imagesForNode, WorkloadImages, type WorkloadImageUse } from '../workloads/index.js';
import { NodeImports, stateFileOf, type NodeImageImporter } from './imports.js';
import { nodeObjectClient, type NodeObjectClient, type TaintEntry } from './node-object.js';
import { NodeStateStore, type NodeState } from '../nodes/index.js';
import { planPulls } from './plan.js';
import { Prepuller } from './prepuller.js';
import { NodeStatePublisher } from './publisher.js';
import { StartupTaint } from './taint.js';
import { ferryVersion } from './version.js';

export interface AgentOptions {
  /** Node name (default: env NODE_NAME from the downward API, else the host name). */
  nodeName?: string;
  /** A CRI client (default: connectCri(agent.criSocket)). */
  cri?: CriImageService;
  /** The containerd importer (default: connectContainerd(agent.containerdSocket || agent.criSocket)). */
  importer?: NodeImageImporter & { close?(): void | Promise<void> };
  /** Folder rescan period. @defaultValue 5000 */
  rescanMs?: number;
  /** NodeState publish debounce. @defaultValue 250 */
  debounceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface AgentRole extends Role {
  node: string;
  prepuller: Prepuller;
  /** undefined when agent.importDir is "". */
  imports: NodeImports | undefined;
  publisher: NodeStatePublisher;
  /** The NodeState as it would be published now (without seenAt). */
  state(): Omit<NodeState, 'seenAt'>;
  /** Re-read labels and in-use refs, re-plan, re-check, publish (what the resync timer does). */
  resync(): Promise<void>;
}

/** Pre-pull failures that are about the runtime, not the image: shown as NodeState.error too. */
const RUNTIME_CODES = [CRI_ERROR_CODES.UNREACHABLE, CRI_ERROR_CODES.UNIMPLEMENTED, CRI_ERROR_CODES.TIMEOUT];
const isRuntimeError = (text: string): boolean => RUNTIME_CODES.some((c) => text.startsWith(`[${c}]`));

export async function startAgent(ctx: RoleContext, opts: AgentOptions = {}): Promise<AgentRole> {
  const logger = ctx.logger.child({ role: 'agent' });
  const env = opts.env ?? process.env;
  const node = opts.nodeName ?? (env.NODE_NAME || hostname());
  const agent = () => ctx.config().agent;
  const first = agent();
  const cri = opts.cri ?? connectCri(first.criSocket);
  const version = ferryVersion();
  let runtime: string | undefined;
  let runtimeError: string | undefined;
  let closed = false;

  const kube = await ctx.kube();
  const nodeObject: NodeObjectClient | undefined = kube ? nodeObjectClient(kube, node) : undefined;
  let labels: Record<string, string> | undefined;
  let taints: TaintEntry[] = [];
  let inUse: string[] = [];
  let workloadImages: WorkloadImageUse[] = [];
  const saidSkipped = new Set<string>();

  const nodeStates = new NodeStateStore(ctx.connection, ctx.config().queue.prefix);
  const publisher = new NodeStatePublisher({
    store: nodeStates,
    build: () => state(),
    logger,
    debounceMs: opts.debounceMs,
  });
  const changed = () => publisher.changed();

  const prepuller = new Prepuller({
    cri,
    settings: () => agent(),
    authFor: (ref) => criAuthFor(ctx.config(), ref),
    logger,
  });

  const taint = first.startupTaint
    ? new StartupTaint({ key: first.startupTaint, remove: nodeObject ? (key) => nodeObject.removeTaint(key) : undefined, backoff: () => agent().backoff, logger, onChange: changed })
    : undefined;

  /** Ready: every planned image present, and the plan made with the node's labels when there is a cluster. */
  const ready = () => prepuller.allPresent() && (!nodeObject || labels !== undefined);

  prepuller.on('change', (s) => {
    if (s.status === 'error' && s.error && isRuntimeError(s.error)) runtimeError = s.error;
    else if (s.status === 'present') runtimeError = undefined;
    changed();
  });
  prepuller.on('ready', () => taint?.ready(ready()));
  // A pre-pull the mirror cannot serve yet: ask for the copy (as an admission
  // would), so a config entry nobody has deployed still reaches the mirror.
  // Every node asks; the producer and the queue's job ids make it one copy.
  prepuller.on('failed', (s) => {
    if (!s.error?.startsWith(`[${CRI_ERROR_CODES.PULL_FAILED}]`) || s.ref === s.image) return;
    if (s.ref !== ctx.mirrorRefOf(s.image)) return; // pulled as indexed (a rewrite-off namespace): not ferry's to copy
    if (blockRuleFor(ctx.config(), s.image)) return;
    ctx.producer.enqueue({ ref: s.image, mirrorRef: s.ref, source: 'agent' });
  });

  let importer: (NodeImageImporter & { close?(): void | Promise<void> }) | undefined;
  let imports: NodeImports | undefined;
  if (first.importDir) {
    const client = opts.importer ?? connectContainerd(first.containerdSocket || first.criSocket, { namespace: first.namespace, snapshotter: first.snapshotter });
    importer = client;
    imports = new NodeImports({ importer: client, agent, logger, rescanMs: opts.rescanMs, onChange: changed });
  }

  function state(): Omit<NodeState, 'seenAt'> {
    return {
      node,
      version,
      ...(runtime ? { runtime } : {}),
      ready: ready(),
      ...(taint ? { taint: taint.state } : {}),
      prepull: prepuller.states(),
      imports: imports?.states() ?? [],
      ...(runtimeError ? { error: runtimeError } : {}),
    };
  }

  const replan = () => {
    const a = agent();
    // Labels not read yet: only workloads that fit every node (no selector, no required affinity) count.
    // The startup taint is ferry's own: no workload tolerates it, and it must not hide their images.
    const facts = { name: node, labels: labels ?? {}, taints, ignoreTaints: a.startupTaint ? [a.startupTaint] : [] };
    const workloads = a.prepullWorkloads ? imagesForNode(workloadImages, facts) : [];
    const plan = planPulls({ prepull: a.prepull, labels, inUse: a.prepullInUse ? inUse : [], workloads, mirrorRefOf: (r) => ctx.mirrorRefOf(r) });
    for (const s of plan.skipped) {
      const key = `${s.image}\n${s.reason}`;
      if (saidSkipped.has(key)) continue;
      saidSkipped.add(key);
      logger.info({ image: s.image, reason: s.reason }, 'agent: pre-pull entry does not apply to this node');
    }
    prepuller.setPlan(plan.pulls);
    taint?.ready(ready());
    changed();
  };

  const readLabels = async () => {
    if (!nodeObject) return;
    try {
      ({ labels, taints } = await nodeObject.read());
    } catch (e) {
      // keep the last labels read; until the first read, entries with a nodeSelector wait
      logger.warn({ node, err: describeError(e), code: isFerryError(e) ? e.code : undefined }, 'agent: cannot read the Node (labels); trying again at the next resync');
    }
  };

  const readInUse = async () => {
    if (!agent().prepullInUse) return;
    try {
      inUse = await new InUseStore(ctx.connection, ctx.config().queue.prefix).inUseRefs();
    } catch (e) {
      logger.warn({ err: describeError(e) }, 'agent: cannot read the in-use index; keeping the last list');
    }
  };

  const readWorkloads = async () => {
    if (!agent().prepullWorkloads) return;
    try {
      workloadImages = await new WorkloadImages(ctx.connection, ctx.config().queue.prefix).list();
    } catch (e) {
      logger.warn({ err: describeError(e) }, 'agent: cannot read the workload image index; keeping the last list');
    }
  };

  let versionFailures = 0;
  let versionTimer: NodeJS.Timeout | undefined;
  const askVersion = async () => {
    try {
      const v = await cri.version();
      runtime = `${v.runtimeName} ${v.runtimeVersion}`;
      runtimeError = undefined; // it answers: whatever kept it from answering is over
      logger.info({ runtime, api: v.runtimeApiVersion, socket: agent().criSocket }, 'agent: runtime answers');
      changed();
    } catch (e) {
      versionFailures++;
      runtimeError = isFerryError(e) ? `[${e.code}] ${e.message}` : describeError(e);
      const delay = backoffDelay(versionFailures, { ...agent().backoff, jitter: 'equal' });
      if (versionFailures === 1) logger.error({ socket: agent().criSocket, err: describeError(e), code: isFerryError(e) ? e.code : undefined, hint: isFerryError(e) ? e.hint : undefined }, 'agent: the runtime does not answer; retrying');
      changed();
      if (!closed) {
        versionTimer = setTimeout(() => void askVersion(), delay);
      }
    }
  };

  let resyncTimer: NodeJS.Timeout | undefined;
  const resync = async () => {
    await Promise.all([readLabels(), readInUse(), readWorkloads()]);
    if (closed) return;
    replan();
    prepuller.resync();
    await publisher.publishNow();
    // Any agent forgets nodes gone for a day (a scaled-down pool), so GET /api/nodes does not list them forever.
    const gone = await nodeStates.removeStale().catch(() => []);
    if (gone.length) logger.info({ nodes: gone }, 'agent: forgot nodes whose agent has not reported for a day');
  };
  const scheduleResync = () => {
    if (closed) return;
    resyncTimer = setTimeout(() => void resync().finally(scheduleResync), agent().resyncMs);
  };

  ctx.onConfigChange((next, prev) => {
    if (next.agent.criSocket !== prev.agent.criSocket || next.agent.importDir === '' !== (prev.agent.importDir === '')) {
      logger.warn('agent: agent.criSocket or turning agent.importDir on/off takes effect at the next restart');
    }
    if (next.agent.startupTaint !== prev.agent.startupTaint) logger.warn('agent: a new agent.startupTaint takes effect at the next restart');
    if (next.agent.importDir) imports?.settingsChanged();
    replan();
  });

  ctx.addReadiness('agent', async () => (runtime ? { ok: true, detail: `${node}: ${runtime}` } : { ok: false, detail: runtimeError ?? 'waiting for the runtime to answer Version' }));

  await askVersion();
  await Promise.all([readLabels(), readInUse(), readWorkloads()]);
  if (kube === undefined && agent().prepull.some((p) => Object.keys(p.nodeSelector ?? {}).length > 0)) {
    logger.info('agent: no cluster configured: agent.prepull entries with a nodeSelector do not apply to this node');
  }
  replan();
  await imports?.start();
  scheduleResync();
  await publisher.publishNow();
  logger.info(
    { node, runtime, criSocket: first.criSocket, prepull: prepuller.states().length, importDir: first.importDir || undefined, stateFile: first.importDir ? stateFileOf(first) : undefined, startupTaint: first.startupTaint || undefined },
    'agent: running',
  );

  return {
    name: 'agent',
    node,
    prepuller,
    imports,
    publisher,
    state,
    resync,
    async close() {
      closed = true;
      clearTimeout(resyncTimer);
      clearTimeout(versionTimer);
      taint?.close();
      await Promise.all([prepuller.close(), imports?.close()]);
      await publisher.publishNow().catch(() => {});
      await publisher.close();
      cri.close();
      await importer?.close?.();
    },
  };
}
