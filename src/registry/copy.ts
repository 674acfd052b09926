/**
 * The copy pipeline: registry -> mirror, blob by blob, manifests last.
 *
 * copyImage(src, dst) runs four named steps:
 *  1. resolve (resolve.ts): the destination's manifest HEAD, and the source's
 *     HEAD (a re-sync: same digest -> `upToDate`, nothing else is sent) or,
 *     for a first copy, the source manifest GET by tag at once.
 *  2. plan: GET the source manifest by digest (verified), unless step 1
 *     already holds its bytes. For an index, apply
 *     the platform filter (manifest.ts) in the `copy.platformMode` chosen
 *     (sparse-index.ts: full, sparse or strip) and GET each kept child by
 *     digest; collect every unique blob.
 *  3. ensure blobs: `copy.layerConcurrency` at a time, through BlobTransfer
 *     (de-duplicated per (mirror repo, digest) across all copies of the
 *     engine, and per upstream blob across mirror repositories: HEAD skip,
 *     cross-repo mount, else verified stream GET -> PUT).
 *  4. push manifests: child manifests by digest, then the top manifest,
 *     exactly as fetched (or the filtered index), LAST — so a mirror tag never
 *     points at an image whose blobs are not all there. A sparse index the
 *     mirror refuses is remembered for the host and the copy finishes in the
 *     fallback mode.
 *
 * The source is untrusted: every descriptor is checked (digest grammar in
 * paths.ts, a byte size) and the plan is bounded (manifest.ts limits: size,
 * nesting, manifests, blobs) while it is made, before any blob moves.
 */
import { pool } from '../async/index.js';
import type { FerryConfig, PlatformMode } from '../config/types.js';
import type { BlobTransfer } from './blob-transfer.js';
import { Progress } from './blobs.js';
import { registryError, repoCtx } from './errors.js';
import type { Logger } from './logger.js';
import {
  filterIndex,
  isImageType,
  isIndexType,
  isSupportedType,
  type Descriptor,
} from './manifest.js';
import { fetchManifest, headManifest, pushManifest, type FetchedManifest, type ManifestInfo } from './manifest-io.js';
import { PlanBudget } from './plan-budget.js';
import type { RegistryRef } from './ref.js';
import { resolveSource } from './resolve.js';
import { choosePlatformMode, indexComplete, refusesSparseIndex, type AppliedPlatformMode, type PlatformModeChoice, type SparseIndexSupport } from './sparse-index.js';
import type { Transport } from './transport/index.js';

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface CopyOptions {
  src: string;
  dst: string;
  /** `os/arch[/variant]`; undefined = config.copy.platforms; [] = every platform. */
  platforms?: string[];
  /** How a filtered index keeps its digest; undefined = config.copy.platformMode. */
  platformMode?: PlatformMode;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  /** Extra mirror repositories (`host/path`) that may already hold the blobs: tried for cross-repo mount. */
  mountFrom?: string[];
  /**
   * Called with the source manifest digest once it is known, before any blob
   * or child manifest is read and before anything is written (a first copy
   * has read the top manifest itself by then): throwing stops the copy (the
   * worker's digest block rules).
   */
  admit?: (sourceDigest: string) => void | Promise<void>;
  /**
   * The source digest the caller last saw for this tag (a record's
   * `sourceDigest`): the upstream manifest is HEADed first, so an unchanged
   * tag costs one HEAD. null: the caller knows none (a first copy), the
   * manifest is GET at once, one upstream round trip less. Undefined: the
   * mirror's HEAD of the tag decides (resolve.ts).
   */
  knownSourceDigest?: string | null;
}

export interface CopyResult {
  /** Digest of the manifest now at dst (differs from sourceDigest only when an index was filtered). */
  digest: string;
  mediaType: string;
  /** Sum of the unique blob sizes the image references (0 when upToDate: nothing was read). */
  bytesTotal: number;
  /** Bytes actually streamed source -> mirror. */
  bytesCopied: number;
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  upToDate: boolean;
  /** Platforms of the index children copied; [] for a single-platform manifest or when upToDate. */
  platforms: string[];
  /** Digest of the source manifest (the index before filtering). */
  sourceDigest: string;
  /** True when a new, filtered index was pushed (digest !== sourceDigest). */
  filtered: boolean;
  /**
   * How an index with children outside `platforms` reached the mirror: `full`
   * (every child), `sparse` (the upstream bytes, the wanted children only),
   * `strip` (a filtered index, new digest); undefined when nothing was left out
   * (a single manifest, every child wanted) or when the mirror already held
   * the source digest.
   */
  platformMode?: AppliedPlatformMode;
  /**
   * Digests of the child manifests copied (nested ones too), or of the kept
   * children of a filtered index found up to date; [] when nothing was read
   * (the mirror already held the source digest) or for a single manifest.
   */
  children: string[];
}

/** What the pipeline needs from the engine. */
export interface CopyDeps {
  transport: Transport;
  blobs: BlobTransfer;
  logger: Logger;
  /** The engine's current config, read when a step needs it (hot reload may swap it mid-copy). */
  config(): FerryConfig;
  /** What each mirror host answered to a sparse index (shared by the engine's copies). */
  sparseIndexes: SparseIndexSupport;
}

/** A manifest to push: the top one, or a child (nested indexes have children of their own). */
interface Node {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  children: Node[];
}

type Plan =
  | { upToDate: true; digest: string; mediaType: string; platforms: string[]; children: string[]; mode: AppliedPlatformMode | undefined }
  | {
      upToDate: false;
      root: Node;
      blobs: Map<string, Descriptor>;
      platforms: string[];
      mode: AppliedPlatformMode | undefined;
      /** For a sparse root: the mode to finish in if the mirror refuses it, and the strip index (same children) for that case. */
      ifRefused?: { mode: AppliedPlatformMode; strip: { digest: string; bytes: Buffer } };
    };

interface BlobCounters {
  bytesCopied: number;
  copied: number;
  skipped: number;
  mounted: number;
}

export async function copyImage(deps: CopyDeps, src: RegistryRef, dst: RegistryRef, opts: CopyOptions, signal: AbortSignal): Promise<CopyResult> {
  const t0 = performance.now();
  const progress = new Progress(opts.onProgress);
  const pinned = !!src.digest || !!dst.digest;
  const platforms = opts.platforms ?? deps.config().copy.platforms;
  const mode = opts.platformMode ?? deps.config().copy.platformMode;

  // 1. resolve
  const { sourceDigest, dstHead, top } = await resolveSource(deps.transport, src, dst, opts.knownSourceDigest, signal);
  await opts.admit?.(sourceDigest);
  const base = { bytesTotal: 0, bytesCopied: 0, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, sourceDigest };
  if (dstHead && dstHead.digest === sourceDigest && (await indexComplete(deps, dst, dstHead, platforms, mode, signal))) {
    progress.final();
    return { ...base, digest: sourceDigest, mediaType: dstHead.mediaType, upToDate: true, platforms: [], filtered: false, children: [] };
  }

  // 2. plan
  const choice = choosePlatformMode(mode, pinned, deps.sparseIndexes.get(dst.host));
  const plan = await planCopy(deps.transport, src, dst, { digest: sourceDigest, top }, platforms, choice, deps.sparseIndexes, dstHead, signal);
  if (plan.upToDate) {
    progress.final();
    const filtered = plan.digest !== sourceDigest;
    return { ...base, digest: plan.digest, mediaType: plan.mediaType, upToDate: true, platforms: plan.platforms, filtered, children: plan.children, ...modeOf(plan.mode) };
  }

  // 3. blobs
  const counters = await ensureBlobs(deps, src, dst, plan.blobs, opts.mountFrom, progress, signal);

  // 4. manifests last: children first (their errors are theirs), then the top one, whose refusal may be the sparse answer
  await pushChildren(deps.transport, dst, plan.root, signal);
  try {
    await pushManifest(deps.transport, dst, dst.tag ?? plan.root.digest, plan.root.bytes, plan.root.mediaType, signal);
    if (plan.mode === 'sparse') deps.sparseIndexes.set(dst.host, true);
  } catch (e) {
    if (plan.mode !== 'sparse' || !plan.ifRefused || !refusesSparseIndex(e)) throw e;
    deps.sparseIndexes.set(dst.host, false);
    const fallback = plan.ifRefused;
    deps.logger.warn(
      { host: dst.host, mode: fallback.mode, err: e instanceof Error ? e.message : String(e) },
      `the mirror refuses sparse indexes (an index whose unwanted platforms are not copied): copy.platformMode falls back to ${fallback.mode} for this registry`,
    );
    if (fallback.mode === 'full') {
      // The rest of the children and their blobs, of the digest admitted (the tag may have moved since:
      // a new digest would skip the block rules and verify gate); what this pass moved is found in place.
      const pinnedSrc: RegistryRef = { host: src.host, repository: src.repository, digest: sourceDigest };
      const rest = await copyImage(deps, pinnedSrc, dst, { ...opts, platformMode: 'full', admit: () => {} }, signal);
      const movedHere = counters.copied + counters.mounted;
      return {
        ...rest,
        bytesCopied: rest.bytesCopied + counters.bytesCopied,
        blobsCopied: rest.blobsCopied + counters.copied,
        blobsMounted: rest.blobsMounted + counters.mounted,
        // pass 2 finds this pass's blobs in place: they are not skipped ones
        blobsSkipped: Math.max(0, rest.blobsSkipped - movedHere) + counters.skipped,
      };
    }
    // strip: same children, already pushed; only the top manifest changes
    plan.root = { ...plan.root, digest: fallback.strip.digest, bytes: fallback.strip.bytes };
    plan.mode = 'strip';
    await pushManifest(deps.transport, dst, dst.tag ?? plan.root.digest, plan.root.bytes, plan.root.mediaType, signal);
  }
  progress.final();
  const result: CopyResult = {
    digest: plan.root.digest,
    mediaType: plan.root.mediaType,
    bytesTotal: progress.total,
    bytesCopied: counters.bytesCopied,
    blobsCopied: counters.copied,
    blobsSkipped: counters.skipped,
    blobsMounted: counters.mounted,
    upToDate: false,
    platforms: plan.platforms,
    sourceDigest,
    filtered: plan.root.digest !== sourceDigest,
    children: descendants(plan.root),
    ...modeOf(plan.mode),
  };
  deps.logger.info(
    { src: `${src.host}/${src.repository}`, dst: `${dst.host}/${dst.repository}`, digest: result.digest, bytesCopied: result.bytesCopied, ms: Math.round(performance.now() - t0) },
    'image copied',
  );
  return result;
}

const modeOf = (mode: AppliedPlatformMode | undefined): { platformMode?: AppliedPlatformMode } => (mode ? { platformMode: mode } : {});

/** Digests of every manifest under `n` (not `n` itself), unique, in tree order. */
function descendants(n: Node): string[] {
  const out = new Set<string>();
  const walk = (m: Node) => {
    for (const c of m.children) {
      out.add(c.digest);
      walk(c);
    }
  };
  walk(n);
  return [...out];
}

/**
 * Step 2: the source manifest by digest (or as step 1 read it); for an index, filter it in the mode
 * chosen and load the kept children. A filtered index already at the
 * destination is up to date (checked before any child is fetched).
 */
async function planCopy(
  transport: Transport,
  src: RegistryRef,
  dst: RegistryRef,
  source: { digest: string; top: FetchedManifest | undefined },
  platforms: string[],
  choice: PlatformModeChoice,
  sparseSupport: SparseIndexSupport,
  dstHead: ManifestInfo | undefined,
  signal: AbortSignal,
): Promise<Plan> {
  const top = source.top ?? (await fetchManifest(transport, { host: src.host, repository: src.repository, digest: source.digest }, signal));
  if (!isSupportedType(top.mediaType)) {
    throw registryError('UNSUPPORTED_MEDIA_TYPE', `manifest media type ${top.mediaType}`, repoCtx(src, 'GET manifest'));
  }
  const blobs = new Map<string, Descriptor>();
  const budget = new PlanBudget(src, blobs);
  budget.manifest(top);
  if (!isIndexType(top.mediaType)) {
    budget.imageBlobs(top);
    return { upToDate: false, root: { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes, children: [] }, blobs, platforms: [], mode: undefined };
  }
  budget.children(top, 0);
  const f = filterIndex(top.bytes, top.json, platforms, false);
  // nothing left out by `platforms`: the index as it is, whatever the mode
  const mode = f.filtered ? choice.first : undefined;
  if (mode === 'full' || !f.filtered) {
    const all = filterIndex(top.bytes, top.json, [], true);
    const root: Node = { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes, children: [] };
    root.children = await loadChildren(transport, src, all.kept, budget, signal);
    return { upToDate: false, root, blobs, platforms: all.platforms, mode };
  }
  if (f.kept.length === 0) {
    throw registryError('NO_MATCHING_PLATFORM', `no child for ${platforms.join(', ')} (index has ${f.available.join(', ') || 'none'})`, {
      ...repoCtx(src, 'filter index'),
      details: { wanted: platforms, available: f.available },
    });
  }
  const upToDate = (m: AppliedPlatformMode): Plan => ({ upToDate: true, digest: f.digest, mediaType: top.mediaType, platforms: f.platforms, children: f.kept.map((d) => d.digest), mode: m });
  if (dstHead?.digest === f.digest) {
    if (mode === 'strip') return upToDate('strip');
    if (mode === 'sparse' && choice.accepts === undefined && choice.ifRefused === 'strip' && dst.tag) {
      // The mirror holds the strip index (an earlier strip setting, or a refusal before this process) and this
      // process has not asked yet: the upstream bytes under the tag ARE the probe (the wanted children are there).
      // Accepted: the tag serves the upstream digest again; refused: the strip index stands.
      try {
        await pushManifest(transport, dst, dst.tag, top.bytes, top.mediaType, signal);
        sparseSupport.set(dst.host, true);
        return { ...upToDate('sparse'), digest: top.digest } as Plan;
      } catch (e) {
        if (!refusesSparseIndex(e)) throw e;
        sparseSupport.set(dst.host, false);
        return upToDate('strip');
      }
    }
  }
  if (mode === 'strip' && dst.digest && dst.digest !== f.digest) {
    // a digest reference stripped: the mirror holds it under the new digest, which step 1 could not HEAD
    const held = await headManifest(transport, { host: dst.host, repository: dst.repository, digest: f.digest }, signal);
    if (held?.digest === f.digest) return upToDate('strip');
  }
  const sparse = mode === 'sparse';
  const root: Node = sparse ? { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes, children: [] } : { digest: f.digest, mediaType: top.mediaType, bytes: f.bytes, children: [] };
  root.children = await loadChildren(transport, src, f.kept, budget, signal);
  return {
    upToDate: false,
    root,
    blobs,
    platforms: f.platforms,
    mode,
    ...(sparse ? { ifRefused: { mode: choice.ifRefused, strip: { digest: f.digest, bytes: f.bytes } } } : {}),
  };
}

/** GETs children by digest (nested indexes recurse, unfiltered) and collects their blobs, within `budget`. */
async function loadChildren(transport: Transport, src: RegistryRef, kept: Descriptor[], budget: PlanBudget, signal: AbortSignal, depth = 1): Promise<Node[]> {
  const nodes: Node[] = new Array(kept.length);
  await pool(kept.map((d, i) => [d, i] as const), 8, signal, async ([d, i], s) => {
    const m = await fetchManifest(transport, { host: src.host, repository: src.repository, digest: d.digest }, s);
    budget.manifest(m);
    const node: Node = { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes, children: [] };
    if (isIndexType(m.mediaType)) {
      node.children = await loadChildren(transport, src, budget.children(m, depth), budget, s, depth + 1);
    } else if (isImageType(m.mediaType)) {
      budget.imageBlobs(m);
    } else {
      throw registryError('UNSUPPORTED_MEDIA_TYPE', `child manifest ${d.digest} has media type ${m.mediaType}`, repoCtx(src));
    }
    nodes[i] = node;
  });
  return nodes;
}

/** Step 3: every unique blob into the mirror, `copy.layerConcurrency` at a time. */
async function ensureBlobs(
  deps: CopyDeps,
  src: RegistryRef,
  dst: RegistryRef,
  blobs: Map<string, Descriptor>,
  mountFrom: string[] | undefined,
  progress: Progress,
  signal: AbortSignal,
): Promise<BlobCounters> {
  progress.total = [...blobs.values()].reduce((a, b) => a + (b.size > 0 ? b.size : 0), 0);
  const counters: BlobCounters = { bytesCopied: 0, copied: 0, skipped: 0, mounted: 0 };
  // same-registry copy: the source repository is a mount candidate too
  const hints = [...(mountFrom ?? [])];
  if (src.host === dst.host && src.repository !== dst.repository) hints.push(`${src.host}/${src.repository}`);
  await pool([...blobs.values()], Math.max(1, deps.config().copy.layerConcurrency), signal, async (desc, s) => {
    const outcome = await deps.blobs.ensureBlob(src, dst, desc, progress, counters, hints, s);
    counters[outcome]++;
  });
  return counters;
}

/** Step 4, first half: every manifest under the root (post-order, by digest); the caller pushes the top one under dst's tag (else its digest). */
async function pushChildren(transport: Transport, dst: RegistryRef, root: Node, signal: AbortSignal): Promise<void> {
  const pushTree = async (n: Node): Promise<void> => {
    await Promise.all(n.children.map((c) => pushTree(c)));
    if (n !== root) await pushManifest(transport, dst, n.digest, n.bytes, n.mediaType, signal);
  };
  await pushTree(root);
}
