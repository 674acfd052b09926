/**
 * The admission decision for one pod, as a pure function: no I/O, no clock.
 * The webhook feeds it the pod, its namespace's annotations, the config and a
 * synchronous lookup into the in-process image state view.
 */
import { PULL_POLICIES, REWRITE_MODES, type BlockRule, type FerryConfig, type PullPolicy, type RewriteMode } from '../config/index.js';
import { repositoryOf, tryParseReference } from '../reference/index.js';
import { isAvailable, type ImageView } from '../queue/record.js';
import { ANNOTATION_MODE, ANNOTATION_PULL_POLICY, ANNOTATION_SKIP } from './annotations.js';
import { compileBlock, compileGlobs, type CompiledBlock, type Matcher } from './matchers.js';
import { mirrorOps, type MirrorOps } from './mirror-ops.js';

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerInput {
  list: ContainerList;
  index: number;
  name: string;
  image: string;
  imagePullPolicy?: string;
}

export interface PodInput {
  namespace: string;
  annotations: Record<string, string>;
  containers: ContainerInput[];
}

/** Namespace annotations, the defaults for its pods. */
export type NamespaceAnnotations = Record<string, string>;

export interface ContainerDecision {
  container: ContainerInput;
  /** Normalized upstream reference, when the image parsed. */
  ref?: string;
  /** New image string, when it changes. */
  image?: string;
  /** New imagePullPolicy, when it changes. */
  pullPolicy?: PullPolicy;
  denied?: string;
}

export interface EnqueueIntent {
  ref: string;
  mirrorRef: string;
}

export interface PodDecision {
  mode: RewriteMode;
  skipped: boolean;
  containers: ContainerDecision[];
  denials: string[];
  warnings: string[];
  enqueue: EnqueueIntent[];
  /** container name -> original image, for the rewritten ones. */
  originalImages: Record<string, string>;
}

export interface CompiledPolicy {
  config: FerryConfig;
  include: Matcher;
  exclude: Matcher;
  block: CompiledBlock;
  refs: MirrorOps;
}

const compiledCache = new WeakMap<FerryConfig, CompiledPolicy>();

/** Compiles globs and block rules once per config object (hot reload swaps the object). */
export function compilePolicy(config: FerryConfig): CompiledPolicy {
  let c = compiledCache.get(config);
  if (!c) {
    c = {
      config,
      include: compileGlobs(config.rewrite.include),
      exclude: compileGlobs(config.rewrite.exclude),
      block: compileBlock(config.block),
      refs: mirrorOps(config.mirror),
    };
    compiledCache.set(config, c);
  }
  return c;
}

/**
 * The config `block:` rule that keeps `ref` out of the mirror: by pattern, or
 * by its own digest or `digest` (the manifest it resolved to). For the paths
 * that do not go through admission: the dashboard API, the worker, the importer.
 */
export function blockRuleFor(config: FerryConfig, ref: string, digest?: string | null): BlockRule | undefined {
  if (config.block.length === 0) return undefined;
  // a stored ref that no longer parses is matched on the ref alone
  const parsed = tryParseReference(ref);
  if (parsed instanceof Error) return compilePolicy(config).block.matches(ref, ref, [digest]);
  return compilePolicy(config).block.matches(ref, repositoryOf(parsed), [parsed.digest, digest]);
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes)$/i.test(v.trim());
}

function asMode(v: string | undefined): RewriteMode | undefined {
  return v !== undefined && (REWRITE_MODES as readonly string[]).includes(v) ? (v as RewriteMode) : undefined;
}

function asPullPolicy(v: string | undefined): PullPolicy | undefined {
  return v !== undefined && (PULL_POLICIES as readonly string[]).includes(v) ? (v as PullPolicy) : undefined;
}

/**
 * Mode precedence: pod annotation > namespace annotation > config
 * `rewrite.namespaces` > `rewrite.mode`. A pod cannot weaken `enforce` set by
 * its namespace or the operator: otherwise any pod could opt out of it.
 */
export function effectiveMode(config: FerryConfig, namespace: string, pod: Record<string, string>, ns: NamespaceAnnotations): RewriteMode {
  const operator = config.rewrite.namespaces[namespace] ?? config.rewrite.mode;
  const nsMode = asMode(ns[ANNOTATION_MODE]);
  const base = nsMode ?? operator;
  const podMode = asMode(pod[ANNOTATION_MODE]);
  if (!podMode) return base;
  if ((base === 'enforce' || operator === 'enforce') && podMode !== 'enforce') return 'enforce';
  return podMode;
}

/**
 * Pull policy: with `force`, the operator's namespace setting or default wins
 * over everything. Otherwise a pod annotation, then a namespace annotation
 * (both only when `allowOverride`), then the operator's namespace setting,
 * then the default.
 */
export function effectivePullPolicy(config: FerryConfig, namespace: string, pod: Record<string, string>, ns: NamespaceAnnotations): PullPolicy {
  const operator = config.pullPolicy.namespaces[namespace];
  if (config.pullPolicy.force) return operator ?? config.pullPolicy.default;
  if (config.pullPolicy.allowOverride) {
    const fromAnnotation = asPullPolicy(pod[ANNOTATION_PULL_POLICY]) ?? asPullPolicy(ns[ANNOTATION_PULL_POLICY]);
    if (fromAnnotation) return fromAnnotation;
  }
  return operator ?? config.pullPolicy.default;
}

function describeState(view: ImageView | undefined): string {
  if (!view) return 'not mirrored yet (queued now)';
  if (view.state === 'error') return 'in error: the last copy failed; retry it from the dashboard';
  if (view.state === 'retrying') return 'retrying a failed copy';
  return `${view.state}, not mirrored yet`;
}

export function decide(
  pod: PodInput,
  nsAnnotations: NamespaceAnnotations,
  policy: CompiledPolicy,
  lookup: (ref: string) => ImageView | undefined,
): PodDecision {
  const { config, refs } = policy;
  const skipped = truthy(pod.annotations[ANNOTATION_SKIP]) || truthy(nsAnnotations[ANNOTATION_SKIP]);
  const mode = effectiveMode(config, pod.namespace, pod.annotations, nsAnnotations);
  const pullPolicy = effectivePullPolicy(config, pod.namespace, pod.annotations, nsAnnotations);
  const out: PodDecision = { mode, skipped, containers: [], denials: [], warnings: [], enqueue: [], originalImages: {} };
  const queued = new Set<string>();

  for (const c of pod.containers) {
    const d: ContainerDecision = { container: c };
    out.containers.push(d);
    const parsed = refs.parse(c.image);
    if (!parsed.ok) {
      out.warnings.push(`ferry: container "${c.name}": image "${c.image}" is not a valid reference (${parsed.error}); left unchanged`);
      continue;
    }
    // An image already in the mirror is judged (block) by the upstream it came from and never rewritten again.
    const upstream = parsed.upstream;
    const view = upstream ? lookup(upstream.ref) : undefined;
    if (upstream) {
      d.ref = upstream.ref;
      const blockRule = policy.block.matches(upstream.ref, upstream.repository, [upstream.digest, view?.digest]);
      if (blockRule || view?.state === 'blocked') {
        const reason = blockRule?.reason ?? view?.blockedReason ?? 'blocked by an operator';
        d.denied = `image "${c.image}" (container "${c.name}") is blocked: ${reason}`;
        out.denials.push(d.denied);
        continue;
      }
    }
    if (skipped) continue;
    const included = upstream ? policy.include(upstream.ref) && !policy.exclude(upstream.ref) : true;
    if (!included) continue;
    if (mode !== 'off' && c.imagePullPolicy !== pullPolicy) d.pullPolicy = pullPolicy;
    if (parsed.inMirror || !upstream) continue;

    const available = isAvailable(view);
    if (!view && !queued.has(upstream.ref)) {
      queued.add(upstream.ref);
      out.enqueue.push({ ref: upstream.ref, mirrorRef: upstream.mirrorRef });
    }
    if (mode === 'off' || (mode === 'mirrored' && !available)) continue;
    if (mode === 'enforce' && !available) {
      d.denied = `image "${c.image}" (container "${c.name}") is ${describeState(view)}; mode enforce admits only mirrored images`;
      out.denials.push(d.denied);
      continue;
    }
    const pinned = config.rewrite.pinDigest && !upstream.digest && view?.digest && available ? `${upstream.mirrorRef}@${view.digest}` : upstream.mirrorRef;
    if (pinned !== c.image) {
      d.image = pinned;
      out.originalImages[c.name] = c.image;
    }
  }
  return out;
}
