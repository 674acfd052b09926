/**
 * `copy.platformMode` (SPEC "Supply chain"): which manifest a platform-filtered
 * index becomes in the mirror, and what each mirror registry accepts.
 *
 * A SPARSE index is the upstream index pushed byte for byte while only the
 * wanted platforms' manifests are copied: the digest is kept (signatures made
 * for it verify, digest-pinned pods resolve) without the unwanted platforms'
 * blobs. The distribution spec lets a registry refuse it; docker-registry 2.8
 * does (400 MANIFEST_BLOB_UNKNOWN, every child must be in the repository),
 * distribution 3 accepts it when configured, some hosted registries accept it.
 *
 * Whether a mirror accepts one is learnt ONCE per registry host and process,
 * from the first sparse push itself (no probe manifest is written anywhere):
 * accepted -> remembered; refused -> remembered, and that copy finishes in the
 * fallback mode (auto: strip for a tag, full for a digest reference; sparse:
 * full, the mode's promise being the digest).
 */
import { pool } from '../async/index.js';
import type { PlatformMode } from '../config/types.js';
import { FerryError } from '../errors.js';
import { registryCodesOf } from './errors.js';
import { filterIndex, isIndexType } from './manifest.js';
import { fetchManifest, headManifest, type ManifestInfo } from './manifest-io.js';
import type { RegistryRef } from './ref.js';
import type { Transport } from './transport/index.js';

/** The mode one copy applies: `auto` resolved. */
export type AppliedPlatformMode = 'full' | 'sparse' | 'strip';

/** Entries of the per-process "this index holds what the settings want" memo, at most. */
const COMPLETE_MEMO_MAX = 10_000;

/** Per mirror host: true = accepts a sparse index, false = refuses, absent = not tried yet. */
export class SparseIndexSupport {
  private readonly byHost = new Map<string, boolean>();
  /** `host/repo@digest|mode|platforms` checked complete in this process (insertion order: oldest dropped first). */
  readonly complete = new Set<string>();

  get(host: string): boolean | undefined {
    return this.byHost.get(host);
  }

  set(host: string, accepts: boolean): void {
    this.byHost.set(host, accepts);
  }
}

/**
 * The mode to try first for an index that has children outside `platforms`,
 * and the one to fall back to if the mirror refuses the sparse index.
 * `pinned`: the source (or destination) is a digest reference.
 */
export interface PlatformModeChoice {
  first: AppliedPlatformMode;
  ifRefused: AppliedPlatformMode;
  /** What the mirror host answered before (undefined: not tried in this process). */
  accepts: boolean | undefined;
}

export function choosePlatformMode(mode: PlatformMode, pinned: boolean, accepts: boolean | undefined): PlatformModeChoice {
  const noSparse: AppliedPlatformMode = mode === 'sparse' || pinned ? 'full' : 'strip';
  if (mode === 'full' || mode === 'strip') return { first: mode, ifRefused: mode, accepts };
  if (accepts === false) return { first: noSparse, ifRefused: noSparse, accepts };
  return { first: 'sparse', ifRefused: noSparse, accepts };
}

/** Registry error codes with which a mirror refuses an index whose children it does not hold. */
const SPARSE_REFUSALS = new Set(['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'MANIFEST_INVALID']);

/** Whether `e`, thrown by the PUT of a sparse index, says the mirror does not take sparse indexes (and not: retry later). */
export function refusesSparseIndex(e: unknown): boolean {
  if (!(e instanceof FerryError) || e.transient) return false;
  const status = e.details?.status;
  if (status !== 400 && status !== 404 && status !== 422) return false;
  const codes = registryCodesOf(e);
  return codes.length === 0 || codes.some((c) => SPARSE_REFUSALS.has(c));
}

/**
 * Whether the index the mirror holds under the source digest has every child
 * the current settings want. Only a sparse index can lack some (a registry
 * that refuses sparse indexes checked every child when it took the index), so
 * this costs nothing for a single manifest or on such a registry. Elsewhere,
 * once per image, settings and process: a GET of the mirror's index and a HEAD
 * per wanted child, so that widening `copy.platforms` or switching to `full`
 * fills in what a sparse copy left out instead of calling it up to date.
 */
export async function indexComplete(deps: { transport: Transport; sparseIndexes: SparseIndexSupport }, dst: RegistryRef, head: ManifestInfo, platforms: string[], mode: PlatformMode, signal: AbortSignal): Promise<boolean> {
  if (!isIndexType(head.mediaType) || deps.sparseIndexes.get(dst.host) === false) return true;
  const key = `${dst.host}/${dst.repository}@${head.digest}|${mode}|${[...platforms].sort().join(',')}`;
  const memo = deps.sparseIndexes.complete;
  if (memo.has(key)) return true;
  const index = await fetchManifest(deps.transport, { host: dst.host, repository: dst.repository, digest: head.digest }, signal, true);
  if (!index) return false;
  const wanted = filterIndex(index.bytes, index.json, mode === 'full' ? [] : platforms, false).kept;
  let missing = false;
  await pool(wanted, 8, signal, async (d, s) => {
    if (missing) return;
    const h = await headManifest(deps.transport, { host: dst.host, repository: dst.repository, digest: d.digest }, s);
    if (h?.digest !== d.digest) missing = true;
  });
  if (missing) return false;
  if (memo.size >= COMPLETE_MEMO_MAX) memo.delete(memo.values().next().value!);
  memo.add(key);
  return true;
}
