/**
 * The admission decision for one pod, as a pure function: no I/O, no clock.
 * The webhook feeds it the pod's images, its namespace's annotations and
 * labels, the config and a synchronous lookup into the in-process image
 * state view.
 *
 * Trust model (SPEC "Trust model"): the operator's config is trusted, pod
 * authors are not, and namespace annotations are defaults for pods. So block
 * rules apply to every image of every pod, skipped or not; `enforce` cannot
 * be weakened by an annotation (`ferry.io/skip` included); everything else a
 * namespace or pod annotation may choose.
 */
import { PULL_POLICIES, REWRITE_MODES, type BlockRule, type FerryConfig, type PullPolicy, type RewriteMode } from '../config/types.js';
import { repositoryOf, tryParseReference } from '../reference/index.js';
import { isAvailable, type ImageView } from '../image-state/index.js';
import { ANNOTATION_MODE, ANNOTATION_PULL_POLICY, ANNOTATION_SKIP } from './annotations.js';
import { compileBlock, compileGlobs, type CompiledBlock, type Matcher } from './matchers.js';
import { mirrorOps, type MirrorOps } from './mirror-ops.js';

/** Where in the pod spec an image is named: a container list, or `spec.volumes[*].image` (Kubernetes 1.31+). */
export type ImageList = 'containers' | 'initContainers' | 'ephemeralContainers' | 'volumes';

/** One image a pod names: a container's `image`, or an image volume's `reference`. */
export interface ImageUse {
  list: ImageList;
  index: number;
  /** The container's name, or the volume's. */
  name: string;
  image: string;
  /** A container's `imagePullPolicy`, an image volume's `pullPolicy`. */
  pullPolicy?: string;
}

export interface PodInput {
  namespace: string;
  annotations: Record<string, string>;
  labels?: Record<string, string>;
  images: ImageUse[];
  /**
   * Default true. False on a pod UPDATE: the pull policies of existing
   * containers are immutable, so ferry must not set one.
   */
  setPullPolicy?: boolean;
}

/** What a namespace says about its pods' defaults (annotations; `ferry.io/skip` may also be a label). */
export interface NamespaceMeta {
  annotations: Record<string, string>;
  labels?: Record<string, string>;
}

export interface ImageDecision {
  use: ImageUse;
  /** Normalized upstream reference, when the image parsed. */
  ref?: string;
  /** New image string, when it changes. */
  image?: string;
  /** New pull policy, when it changes. */
  pullPolicy?: PullPolicy;
  denied?: string;
}

export interface EnqueueIntent {
  ref: string;
  mirrorRef: string;
}

export interface PodDecision {
  mode: RewriteMode;
  /** `ferry.io/skip` was asked for and honoured (never under `enforce`). */
  skipped: boolean;
  images: ImageDecision[];
  denials: string[];
  warnings: string[];
  enqueue: EnqueueIntent[];
  /** `originalImagesKey(use)` -> original image, for the rewritten ones. */
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

/**
 * Key of an image in `ferry.io/original-images`: the container's name, or
 * `volume/<name>` for an image volume (container names are DNS labels, so
 * the two never collide).
 */
export function originalImagesKey(use: Pick<ImageUse, 'list' | 'name'>): string {
  return use.list === 'volumes' ? `volume/${use.name}` : use.name;
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
 * `rewrite.namespaces` > `rewrite.mode`, except for `enforce`: set by the
 * operator it holds whatever the annotations say; set by a namespace
 * annotation, a pod cannot weaken it. Otherwise any pod (or anyone who may
 * annotate a namespace) could walk around it.
 */
export function effectiveMode(config: FerryConfig, namespace: string, pod: Record<string, string>, ns: Record<string, string>): RewriteMode {
  const operator = config.rewrite.namespaces[namespace] ?? config.rewrite.mode;
  if (operator === 'enforce') return 'enforce';
  const base = asMode(ns[ANNOTATION_MODE]) ?? operator;
  if (base === 'enforce') return 'enforce';
  return asMode(pod[ANNOTATION_MODE]) ?? base;
}

/**
 * Pull policy: with `force`, the operator's namespace setting or default wins
 * over everything. Otherwise a pod annotation, then a namespace annotation
 * (both only when `allowOverride`), then the operator's namespace setting,
 * then the default.
 */
export function effectivePullPolicy(config: FerryConfig, namespace: string, pod: Record<string, string>, ns: Record<string, string>): PullPolicy {
  const operator = config.pullPolicy.namespaces[namespace];
  if (config.pullPolicy.force) return operator ?? config.pullPolicy.default;
  if (config.pullPolicy.allowOverride) {
    const fromAnnotation = asPullPolicy(pod[ANNOTATION_PULL_POLICY]) ?? asPullPolicy(ns[ANNOTATION_PULL_POLICY]);
    if (fromAnnotation) return fromAnnotation;
  }
  return operator ?? config.pullPolicy.default;
}

/** `ferry.io/skip` as a pod annotation or label, or as its namespace's. */
function asksToSkip(pod: PodInput, ns: NamespaceMeta): boolean {
  return [pod.annotations, pod.labels, ns.annotations, ns.labels].some((m) => truthy(m?.[ANNOTATION_SKIP]));
}

function describeState(view: ImageView | undefined): string {
  if (!view) return 'not mirrored yet (queued now)';
  if (view.state === 'error') return 'in error: the last copy failed; retry it from the dashboard';
  if (view.state === 'retrying') return 'retrying a failed copy';
  return `${view.state}, not mirrored yet`;
}

/** `container "app"` or `image volume "data"`: how messages name an image's place in the pod. */
export function describeUse(use: Pick<ImageUse, 'list' | 'name'>): string {
  return use.list === 'volumes' ? `image volume "${use.name}"` : `container "${use.name}"`;
}

export function decide(pod: PodInput, ns: NamespaceMeta, policy: CompiledPolicy, lookup: (ref: string) => ImageView | undefined): PodDecision {
  const { config, refs } = policy;
  const mode = effectiveMode(config, pod.namespace, pod.annotations, ns.annotations);
  const wantsSkip = asksToSkip(pod, ns);
  const skipped = wantsSkip && mode !== 'enforce';
  const pullPolicy = effectivePullPolicy(config, pod.namespace, pod.annotations, ns.annotations);
  const setPullPolicy = mode !== 'off' && pod.setPullPolicy !== false;
  const out: PodDecision = { mode, skipped, images: [], denials: [], warnings: [], enqueue: [], originalImages: {} };
  if (wantsSkip && !skipped && pod.images.length > 0) {
    out.warnings.push('ferry: ferry.io/skip is ignored: mode enforce applies to this pod (set by the operator or its namespace) and cannot be opted out of');
  }
  const queued = new Set<string>();

  for (const use of pod.images) {
    const d: ImageDecision = { use };
    out.images.push(d);
    const parsed = refs.parse(use.image);
    if (!parsed.ok) {
      out.warnings.push(`ferry: ${describeUse(use)}: image "${use.image}" is not a valid reference (${parsed.error}); left unchanged`);
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
        d.denied = `image "${use.image}" (${describeUse(use)}) is blocked: ${reason}`;
        out.denials.push(d.denied);
        continue;
      }
    }
    if (skipped) continue;
    const included = upstream ? policy.include(upstream.ref) && !policy.exclude(upstream.ref) : true;
    if (!included) continue;
    if (setPullPolicy && use.pullPolicy !== pullPolicy) d.pullPolicy = pullPolicy;
    if (parsed.inMirror || !upstream) continue;

    const available = isAvailable(view);
    if (!view && !queued.has(upstream.ref)) {
      queued.add(upstream.ref);
      out.enqueue.push({ ref: upstream.ref, mirrorRef: upstream.mirrorRef });
    }
    if (mode === 'off' || (mode === 'mirrored' && !available)) continue;
    if (mode === 'enforce' && !available) {
      d.denied = `image "${use.image}" (${describeUse(use)}) is ${describeState(view)}; mode enforce admits only mirrored images`;
      out.denials.push(d.denied);
      continue;
    }
    const pinned = config.rewrite.pinDigest && !upstream.digest && view?.digest && available ? `${upstream.mirrorRef}@${view.digest}` : upstream.mirrorRef;
    if (pinned !== use.image) {
      d.image = pinned;
      out.originalImages[originalImagesKey(use)] = use.image;
    }
  }
  return out;
}
