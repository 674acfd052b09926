/**
 * What one workload's pods will pull: its pod template's images (containers,
 * init containers and image volumes; a template has no ephemeral
 * containers), each with its normalized upstream ref and the reference the
 * pods will really pull, and where its pods can land (the template's
 * nodeSelector, required node affinity and tolerations). Pure (no I/O); a
 * malformed object gives null, never a throw, because the watch feeds it
 * whatever the API server holds.
 *
 * The ref is derived as the in-use index derives a pod's (in-use/pod-images:
 * a mirror reference mapped back through `ferry.io/original-images`, else the
 * mirror path), so both indexes name an image alike. What the pods pull
 * follows the webhook's rewrite rules (policy/): the mirror reference where
 * it rewrites, the upstream ref where it does not (mode `off`, such as
 * kube-system by default, `ferry.io/skip`, include/exclude), the template's
 * own image where that already names the mirror. Those namespaces still
 * count: a node runs their pods too.
 *
 * Not judged here: namespace annotations (`ferry.io/mode`/`ferry.io/skip` on
 * the Namespace; the watch role keeps no namespace informer, so such a
 * namespace is judged by the operator's config and the template alone), and
 * the scheduler's soft rules and resource fit (placement.ts: an agent may
 * pull an image its node never runs, never the other way round).
 */
import type { FerryConfig } from '../config/index.js';
import { podImages } from '../in-use/index.js';
import { ANNOTATION_SKIP, blockRuleFor, compilePolicy, effectiveMode } from '../policy/index.js';
import type { RewriteMode } from '../config/index.js';
import { requiredAffinityOf, tolerationsOf } from './placement.js';
import type { WorkloadEntry, WorkloadImage, WorkloadKind } from './types.js';

/** The parts of a Deployment, StatefulSet or DaemonSet read here (V1Deployment etc. fit); everything is checked at run time. */
export interface WorkloadLike {
  metadata?: { namespace?: unknown; name?: unknown } | undefined;
  spec?: unknown;
}

/** The key of a workload in the index and in `WorkloadImageUse.workloads`. */
export function workloadKey(kind: WorkloadKind, namespace: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Only the string values of a map (labels, annotations, nodeSelector). */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asRecord(v) ?? {})) if (typeof x === 'string') out[k] = x;
  return out;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes)$/i.test(v.trim());
}

/** The mode the webhook applies to this template's pods (namespace annotations unknown here); `ferry.io/skip` is `off` unless the operator enforces. */
function modeOf(config: FerryConfig, namespace: string, annotations: Record<string, string>, labels: Record<string, string>): RewriteMode {
  const mode = effectiveMode(config, namespace, annotations, {});
  if (mode === 'enforce') return mode;
  return truthy(annotations[ANNOTATION_SKIP]) || truthy(labels[ANNOTATION_SKIP]) ? 'off' : mode;
}

/** A Deployment or StatefulSet scaled to zero runs no pod now. `replicas` absent defaults to 1 in Kubernetes. */
function scaledToZero(kind: WorkloadKind, spec: Record<string, unknown>): boolean {
  return kind !== 'DaemonSet' && typeof spec.replicas === 'number' && spec.replicas <= 0;
}

/**
 * The images `obj` (of `kind`) will have its pods pull, under `config` (its
 * mirror, rewrite and block rules); null when it needs none now (scaled to
 * zero, no valid image, malformed). Images are sorted by `pull`, one per pull.
 */
export function workloadImages(kind: WorkloadKind, obj: WorkloadLike | null | undefined, config: FerryConfig): WorkloadEntry | null {
  const namespace = obj?.metadata?.namespace;
  const name = obj?.metadata?.name;
  const spec = asRecord(obj?.spec);
  if (typeof namespace !== 'string' || typeof name !== 'string' || !spec || scaledToZero(kind, spec)) return null;
  const template = asRecord(spec.template);
  const podSpec = asRecord(template?.spec);
  if (!podSpec) return null;
  const meta = asRecord(template?.metadata);
  const annotations = stringMap(meta?.annotations);
  const labels = stringMap(meta?.labels);
  const policy = compilePolicy(config);
  const mode = modeOf(config, namespace, annotations, labels);

  const byPull = new Map<string, WorkloadImage>();
  for (const i of podImages({ metadata: { namespace, name, annotations }, spec: podSpec }, config.mirror)) {
    if (i.list === 'ephemeralContainers') continue; // not in a template; debugging, never worth a pre-pull
    const parsed = policy.refs.parse(i.image);
    if (!parsed.ok) continue;
    // The webhook denies pods naming a blocked image: no node will run it, and none should hold it.
    if (blockRuleFor(config, i.ref, i.digest)) continue;
    let pull: string;
    if (parsed.inMirror) pull = parsed.upstream?.mirrorRef ?? i.ref;
    else if (mode === 'off' || !parsed.upstream || !policy.include(i.ref) || policy.exclude(i.ref)) pull = i.ref;
    else pull = parsed.upstream.mirrorRef;
    if (!byPull.has(pull)) byPull.set(pull, { ref: i.ref, pull });
  }
  if (byPull.size === 0) return null;
  const images = [...byPull.values()].sort((a, b) => (a.pull < b.pull ? -1 : a.pull > b.pull ? 1 : 0));
  const affinity = requiredAffinityOf(podSpec);
  const tolerations = tolerationsOf(podSpec);
  return { images, nodeSelector: stringMap(podSpec.nodeSelector), ...(affinity ? { affinity } : {}), ...(tolerations ? { tolerations } : {}) };
}

/** Whether two entries say the same (the watcher writes only what changed). */
export function sameEntry(a: WorkloadEntry | null | undefined, b: WorkloadEntry | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return JSON.stringify(a) === JSON.stringify(b);
}
