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
 * namespace or pod annotation may choose. Private images are handed only to
 * namespaces that have credentials for them (tenancy.ts).
 */
import { PULL_POLICIES, REWRITE_MODES, type BlockRule, type FerryConfig, type PullPolicy, type RewriteMode } from '../config/types.js';
import { repositoryOf, tryParseReference } from '../reference/index.js';
import { failedVerification, isAvailable, type ImageView } from '../image-state/index.js';
import { ANNOTATION_MODE, ANNOTATION_PULL_POLICY, ANNOTATION_SKIP } from './annotations.js';
import { compileBlock, compileGlobs, type CompiledBlock, type Matcher } from './matchers.js';
import { mirrorOps, type MirrorOps, type UpstreamImage } from './mirror-ops.js';
import { digestNotKnownYet, NO_ALIASES, recordOfCopy, rewriteTarget, type DigestAliasLookup } from './copy-digests.js';
import { notSharedReason, notSharedRemedy, sharingFor, tenancyLookup, type HostTenancy, type Sharing } from './tenancy.js';

export type { DigestAliasLookup } from './copy-digests.js';

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
   * Names in the pod's `spec.imagePullSecrets` (the ServiceAccount admission
   * plugin has already added its service account's): what a copy or a
   * verification may read when `credentialsFromPods` is on for the host.
   */
  pullSecrets?: string[];
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

/** Whose credentials a copy or a verification may use: the pod's namespace and its pull-secret names (never their content). */
export interface Requester {
  namespace: string;
  pullSecrets: string[];
}

export interface EnqueueIntent {
  ref: string;
  mirrorRef: string;
  /** Set when `credentialsFromPods` is on for the host and the pod names pull secrets. */
  requester?: Requester;
  /**
   * Not a copy: the image is mirrored (or being copied) but not this
   * namespace's yet; a worker checks `requester`'s credentials against it,
   * and finds out whether the upstream serves it anonymously if that is
   * not known yet.
   */
  verify?: boolean;
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
  tenancy: (host: string) => HostTenancy;
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
      tenancy: tenancyLookup(config),
    };
    compiledCache.set(config, c);
  }
  return c;
}

/**
 * The config `block:` rule that keeps `ref` out of the mirror: by pattern, or
 * by its own digest or `digest` (the manifest it resolved to; `more`: e.g. the
 * other digest of a filtered index). For the paths that do not go through
 * admission: the dashboard API, the worker, the importer.
 */
export function blockRuleFor(config: FerryConfig, ref: string, digest?: string | null, ...more: (string | null | undefined)[]): BlockRule | undefined {
  if (config.block.length === 0) return undefined;
  // a stored ref that no longer parses is matched on the ref alone
  const parsed = tryParseReference(ref);
  if (parsed instanceof Error) return compilePolicy(config).block.matches(ref, ref, [digest, ...more]);
  return compilePolicy(config).block.matches(ref, repositoryOf(parsed), [parsed.digest, digest, ...more]);
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

/** The denial of an image a `verify:` enforce rule refused: unsigned, or wrongly signed, and the worker's reason. */
function describeSignatureFailure(view: ImageView): string {
  const what = view.signature === 'unsigned' ? 'unsigned' : 'wrongly signed (its cosign signature does not verify)';
  return `${what}: a verify rule in mode enforce keeps it out of the mirror${view.lastError ? ` (${view.lastError})` : ''}`;
}

function describeState(view: ImageView | undefined): string {
  if (!view) return 'not mirrored yet (queued now)';
  if (failedVerification(view)) return describeSignatureFailure(view);
  if (view.state === 'error') return 'in error: the last copy failed; retry it from the dashboard';
  if (view.state === 'retrying') return 'retrying a failed copy';
  return `${view.state}, not mirrored yet`;
}

/** `container "app"` or `image volume "data"`: how messages name an image's place in the pod. */
export function describeUse(use: Pick<ImageUse, 'list' | 'name'>): string {
  return use.list === 'volumes' ? `image volume "${use.name}"` : `container "${use.name}"`;
}

export function decide(
  pod: PodInput,
  ns: NamespaceMeta,
  policy: CompiledPolicy,
  lookup: (ref: string) => ImageView | undefined,
  aliases: DigestAliasLookup = NO_ALIASES,
): PodDecision {
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
  const verifying = new Set<string>();
  const pullSecrets = pod.pullSecrets ?? [];
  const requesterFor = (t: HostTenancy): Requester | undefined =>
    t.fromPods && pullSecrets.length > 0 ? { namespace: pod.namespace, pullSecrets: [...pullSecrets] } : undefined;
  /** Asks a worker to look (once per image and pod); returns the pull secrets it will check, for the message. */
  const askToVerify = (upstream: UpstreamImage, t: HostTenancy, sharing: Sharing, available: boolean): string[] | undefined => {
    if (sharing.shared) return undefined;
    const requester = requesterFor(t);
    // Unknown access of a mirrored image: one anonymous probe says whether it is public. Otherwise only a secret can help.
    if (!requester && !(sharing.why === 'unknown' && available)) return undefined;
    if (!verifying.has(upstream.ref)) {
      verifying.add(upstream.ref);
      out.enqueue.push({ ref: upstream.ref, mirrorRef: upstream.mirrorRef, verify: true, ...(requester ? { requester } : {}) });
    }
    return requester?.pullSecrets;
  };

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
      // A filtered index has two digests (the mirror's and the upstream's): a rule naming either blocks both,
      // also for a pod naming the mirror's digest directly, which no record is keyed by.
      const digests = [upstream.digest, view?.digest, view?.sourceDigest, ...(upstream.digest ? aliases(upstream.digest) : [])];
      const blockRule = policy.block.matches(upstream.ref, upstream.repository, digests);
      if (blockRule || view?.state === 'blocked') {
        const reason = blockRule?.reason ?? view?.blockedReason ?? 'blocked by an operator';
        d.denied = `image "${use.image}" (${describeUse(use)}) is blocked: ${reason}`;
        out.denials.push(d.denied);
        continue;
      }
      // Ferry's copy named directly: the same isolation, in every mode and skipped or not (a pod author can set both).
      // Judged as a rewrite to it would be, by the record that vouches for it; with none (a digest or a tag no
      // record names: the mirror serves those too), as an image not checked yet.
      if (parsed.inMirror) {
        const t = policy.tenancy(upstream.host);
        const copy = recordOfCopy(upstream, view, lookup, aliases);
        const sharing = sharingFor(copy?.view, pod.namespace, t);
        if (!sharing.shared) {
          let why: string;
          if (copy) {
            const available = isAvailable(copy.view);
            const checking = askToVerify(copy.image, t, sharing, available);
            const name = copy.aliased ? copy.image.ref : upstream.ref;
            why = `${notSharedReason(sharing, pod.namespace, upstream.host)}; name ${name} instead and ${notSharedRemedy(sharing, pod.namespace, t, checking, available)}`;
          } else {
            why = `no record of ferry's says that namespace "${pod.namespace}" may pull it, and ferry may have copied it from ${upstream.host} with credentials; name ${upstream.ref} instead`;
          }
          d.denied = `image "${use.image}" (${describeUse(use)}) is ferry's copy of ${upstream.ref}: ${why}`;
          out.denials.push(d.denied);
          continue;
        }
      }
    }
    if (skipped) continue;
    const included = upstream ? policy.include(upstream.ref) && !policy.exclude(upstream.ref) : true;
    if (!included) continue;
    if (setPullPolicy && use.pullPolicy !== pullPolicy) d.pullPolicy = pullPolicy;
    if (parsed.inMirror || !upstream) continue;

    const available = isAvailable(view);
    const tenancy = policy.tenancy(upstream.host);
    if (!view && !queued.has(upstream.ref)) {
      queued.add(upstream.ref);
      const requester = requesterFor(tenancy);
      out.enqueue.push({ ref: upstream.ref, mirrorRef: upstream.mirrorRef, ...(requester ? { requester } : {}) });
    }
    const sharing = sharingFor(view, pod.namespace, tenancy);
    // Asked whatever this pod gets now (an image still being copied included): the answer is in for the next pod.
    const checking = view && mode !== 'off' ? askToVerify(upstream, tenancy, sharing, available) : undefined;
    if (mode !== 'off' && failedVerification(view)) {
      d.denied = `image "${use.image}" (${describeUse(use)}) is ${describeSignatureFailure(view!)}`;
      out.denials.push(d.denied);
      continue;
    }
    if (mode === 'off' || (mode === 'mirrored' && !available)) continue;
    if (mode === 'always' && digestNotKnownYet(config, upstream, view, available)) {
      out.warnings.push(`ferry: ${describeUse(use)}: "${use.image}" left on the upstream until it is mirrored: copy.platformMode strip may serve it under another digest`);
      continue;
    }
    if (mode === 'enforce' && !available) {
      d.denied = `image "${use.image}" (${describeUse(use)}) is ${describeState(view)}; mode enforce admits only mirrored images`;
      out.denials.push(d.denied);
      continue;
    }
    if (!sharing.shared) {
      // Left upstream, the kubelet pulls with the pod's own secret: exactly what the namespace could do without ferry.
      const why = `${notSharedReason(sharing, pod.namespace, upstream.host)}; ${notSharedRemedy(sharing, pod.namespace, tenancy, checking, available)}`;
      if (mode === 'enforce') {
        d.denied = `image "${use.image}" (${describeUse(use)}) is not given to this namespace: ${why}`;
        out.denials.push(d.denied);
      } else {
        out.warnings.push(`ferry: ${describeUse(use)}: "${use.image}" left on the upstream: ${why}`);
      }
      continue;
    }
    const pinned = rewriteTarget(config, upstream, view, available);
    if (pinned !== use.image) {
      d.image = pinned;
      out.originalImages[originalImagesKey(use)] = use.image;
    }
  }
  return out;
}
