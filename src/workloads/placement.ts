/**
 * Where a workload's pods can land, as the scheduler's hard rules say: the
 * pod template's `nodeSelector`, its required node affinity
 * (`requiredDuringSchedulingIgnoredDuringExecution`) and its tolerations
 * against the node's NoSchedule/NoExecute taints. The preferred rules and
 * the scheduler's resource fit are not judged: a node they would pass over
 * still holds the image, never the other way round. Pure.
 *
 * Taints the node's lifecycle puts on and takes off by itself are left out
 * (`node.kubernetes.io/*`, `node.cloudprovider.kubernetes.io/*`: not-ready,
 * unreachable, pressure, uninitialized), as is the agent's own startup
 * taint: a node that is still starting carries them, and judging by them
 * would plan nothing for the very node that needs its images first.
 */

/** One `matchExpressions` / `matchFields` requirement. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One required node-affinity term (the terms are ORed, its requirements ANDed). */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** A pod template's hard placement rules, as the index keeps them (absent = no such rule). */
export interface Placement {
  /** `{}` = every node. */
  nodeSelector: Record<string, string>;
  /** The required node-affinity terms; absent = no required affinity. */
  affinity?: NodeSelectorTerm[];
  /** Absent = tolerates nothing. */
  tolerations?: Toleration[];
}

/** What a placement is judged against. */
export interface NodeFacts {
  name?: string;
  labels: Readonly<Record<string, string>>;
  taints?: readonly Taint[];
  /** Taint keys that do not keep workloads off (the agent's startup taint). */
  ignoreTaints?: readonly string[];
}

const LIFECYCLE_TAINT = /^node(\.cloudprovider)?\.kubernetes\.io\//;

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function requirements(v: unknown): NodeSelectorRequirement[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((r) => {
    const o = asRecord(r);
    const key = str(o?.key);
    const operator = str(o?.operator);
    if (key === undefined || operator === undefined) return [];
    const values = Array.isArray(o?.values) ? o.values.filter((x): x is string => typeof x === 'string') : undefined;
    return [{ key, operator, ...(values ? { values } : {}) }];
  });
}

/** Node-selector terms in the shape placementAllows reads, malformed parts dropped; undefined when `v` is no list. */
export function nodeSelectorTermsOf(v: unknown): NodeSelectorTerm[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((term) => {
    const o = asRecord(term);
    const exprs = requirements(o?.matchExpressions);
    const fields = requirements(o?.matchFields);
    return { ...(exprs?.length ? { matchExpressions: exprs } : {}), ...(fields?.length ? { matchFields: fields } : {}) };
  });
}

/** The required node-affinity terms of a pod spec, or undefined when it has none. */
export function requiredAffinityOf(podSpec: Record<string, unknown>): NodeSelectorTerm[] | undefined {
  const required = asRecord(asRecord(asRecord(podSpec.affinity)?.nodeAffinity)?.requiredDuringSchedulingIgnoredDuringExecution);
  return nodeSelectorTermsOf(required?.nodeSelectorTerms);
}

/** Tolerations in the shape placementAllows reads, malformed ones dropped; undefined when there are none. */
export function tolerationListOf(v: unknown): Toleration[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.flatMap((t): Toleration[] => {
    const o = asRecord(t);
    if (!o) return [];
    const fields = { key: str(o.key), operator: str(o.operator), value: str(o.value), effect: str(o.effect) };
    return [Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')) as Toleration];
  });
  return out.length ? out : undefined;
}

/** The tolerations of a pod spec, or undefined when it has none. */
export function tolerationsOf(podSpec: Record<string, unknown>): Toleration[] | undefined {
  return tolerationListOf(podSpec.tolerations);
}

function requirementHolds(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      // one integer each side, as the API server validates them
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      return r.operator === 'Gt' ? BigInt(value) > BigInt(values[0]!) : BigInt(value) < BigInt(values[0]!);
    }
    default:
      return false; // an operator the API server would have refused
  }
}

/** A term with no requirement matches no node (the API's rule). */
function termMatches(term: NodeSelectorTerm, node: NodeFacts): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return exprs.every((r) => requirementHolds(r, node.labels[r.key])) && fields.every((r) => r.key === 'metadata.name' && requirementHolds(r, node.name));
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return t.key === undefined || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** The node's taints that keep a pod off unless tolerated (NoSchedule, NoExecute; lifecycle and ignored keys left out). */
export function repellingTaints(node: NodeFacts): Taint[] {
  const ignore = new Set(node.ignoreTaints ?? []);
  return (node.taints ?? []).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !LIFECYCLE_TAINT.test(t.key) && !ignore.has(t.key));
}

/** Does `labels` hold every key=value of `selector`? An empty selector matches every node. */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** Can a pod with `placement` land on `node` by the scheduler's hard rules? */
export function placementAllows(placement: Placement, node: NodeFacts, repelling: readonly Taint[] = repellingTaints(node)): boolean {
  if (!selectorMatches(placement.nodeSelector, node.labels)) return false;
  if (placement.affinity && !placement.affinity.some((term) => termMatches(term, node))) return false;
  const tolerations = placement.tolerations ?? [];
  return repelling.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}
