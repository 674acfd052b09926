/**
 * A watch's `alias` (DataImportCron's `managedDataSource`): a tag in the
 * watched image's mirror repository (`mirror/docker.io/library/fedora:stable`)
 * that points at the mirror's copy of the watch's current selection, so pods
 * can name one stable tag.
 *
 * Rules (docs/watch.md "Alias"):
 * - it moves only once the copy of the selected upstream digest completed
 *   (the record of `<repository>:<selected tag>` is `mirrored` with that
 *   upstream digest), and then to the digest the MIRROR holds for it (they
 *   differ with `copy.platformMode: strip`);
 * - it always converges to the current selection, read under the watch's
 *   lock: a copy of an older selection landing late never moves it back;
 * - the move is a PUT of the mirror's own manifest bytes under the alias, so
 *   two replicas doing it at once put the same bytes;
 * - an alias equal to an upstream tag of the image would fight with the
 *   mirrored copy of that tag: refused (FERRY_ERR_WATCH_ALIAS_CONFLICT);
 * - where it points is remembered in the watch status (`alias`), so an
 *   unchanged poll costs no mirror request; a HEAD re-verifies it on the
 *   first pass of a process, on API-requested polls, and every
 *   `verifyEveryMs` (default 15 min); a wrong or missing tag is put again.
 * The caller holds the watch's lock.
 */
import type { Logger } from 'pino';
import { describeError, isFerryError } from '../errors.js';
import type { ImageStore } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { tagRef, type ResolvedWatch } from './definition.js';
import { WATCH_ERROR_CODES } from './errors.js';
import * as metrics from './metrics.js';
import type { WatchEngine } from './observe.js';
import type { AliasStatus, WatchState } from './state.js';

/** Re-verify a remembered alias with one mirror HEAD at least this often. */
export const ALIAS_VERIFY_EVERY_MS = 15 * 60_000;

export interface AliasDeps {
  state: WatchState;
  store: Pick<ImageStore, 'get'>;
  engine: Pick<WatchEngine, 'resolveDigest' | 'getManifest' | 'putManifest'>;
  logger: Logger;
  mirrorRefOf(ref: string): string;
  signal: AbortSignal;
}

export interface AliasPassOptions {
  /** The upstream tags the poll just listed (absent when no poll ran: a copy landed). */
  tags?: readonly string[] | undefined;
  /** HEAD the mirror even when the remembered digest is the target and was verified recently. */
  verify: boolean;
  /** @defaultValue ALIAS_VERIFY_EVERY_MS */
  verifyEveryMs?: number | undefined;
}

/** Emitted by the watcher as `aliased` when the alias tag of watch `id` was put at `digest` (moved to a new selection, or repaired). */
export interface AliasedEvent {
  id: string;
  alias: string;
  digest: string;
  previous: string | null;
  action: 'moved' | 'repaired';
}

/** What one pass did: `moved` / `repaired` when it PUT the alias (the watcher then emits `aliased`). */
export interface AliasOutcome {
  id: string;
  alias: string;
  action: 'moved' | 'repaired' | 'unchanged' | 'waiting' | 'refused' | 'failed';
  /** Where the alias points after the pass (null: nowhere yet). */
  digest: string | null;
  /** Where it pointed before (for `moved`). */
  previous: string | null;
}

/** Should this pass HEAD the mirror? When never verified, or the last check is older than `everyMs`. */
export function aliasNeedsVerify(a: AliasStatus | null | undefined, nowMs: number, everyMs = ALIAS_VERIFY_EVERY_MS): boolean {
  if (!a?.digest || !a.verifiedAt) return true;
  const at = Date.parse(a.verifiedAt);
  return !Number.isFinite(at) || nowMs - at >= everyMs;
}

/** The mirror repository of a watch (`mirror/docker.io/library/fedora`). */
export function mirrorRepositoryOf(d: Pick<AliasDeps, 'mirrorRefOf'>, w: ResolvedWatch): string {
  return repositoryOf(parseReference(d.mirrorRefOf(tagRef(w, 'latest'))));
}

/** Why `alias` cannot be used for this watch, or undefined. */
async function conflictOf(d: AliasDeps, w: ResolvedWatch, alias: string, prev: AliasStatus | null, tags: readonly string[] | undefined): Promise<string | undefined> {
  if (w.tag === alias) return `alias "${alias}" is the tag this watch follows`;
  if (tags?.includes(alias)) return `alias "${alias}" is also an upstream tag of ${w.repository}: the mirror's ${alias} would be both that tag's copy and the alias`;
  // No fresh tag list (a copy landed; `digest` lists none): trust what the last poll found.
  if (!tags && w.config.strategy !== 'digest' && prev?.error?.code === WATCH_ERROR_CODES.ALIAS_CONFLICT) return prev.error.message;
  const rec = await d.store.get(tagRef(w, alias));
  if (rec) return `alias "${alias}" is a tag ferry mirrors for ${tagRef(w, alias)} (source ${rec.source}): the alias would overwrite that copy`;
  return undefined;
}

function same(a: AliasStatus | null | undefined, b: AliasStatus): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b);
}

/**
 * Brings the alias tag of `w` to the mirror's copy of its current selection
 * (when that copy is complete), and records the outcome in the watch status.
 * Never throws for registry failures: they land in `alias.error`.
 */
export async function reconcileAlias(d: AliasDeps, w: ResolvedWatch, o: AliasPassOptions): Promise<AliasOutcome | undefined> {
  const alias = w.config.alias;
  const status = await d.state.status(w.id);
  if (!alias) {
    if (status.alias) await d.state.setStatus(w.id, { ...status, alias: null }); // alias removed from the watch; the tag stays in the mirror
    return undefined;
  }
  const prev = status.alias?.tag === alias ? status.alias : null; // a renamed alias starts over (the old tag stays in the mirror)
  const base: AliasStatus = prev ?? { tag: alias, digest: null, movedAt: null, verifiedAt: null, waitingFor: null, error: null };
  const out: AliasOutcome = { id: w.id, alias, action: 'unchanged', digest: base.digest, previous: base.digest };
  const save = async (next: AliasStatus): Promise<AliasOutcome> => {
    if (!same(status.alias, next)) await d.state.setStatus(w.id, { ...status, alias: next });
    out.digest = next.digest;
    return out;
  };

  const conflict = await conflictOf(d, w, alias, prev, o.tags);
  if (conflict) {
    if (prev?.error?.message !== conflict) {
      d.logger.error({ watch: w.id, alias, code: WATCH_ERROR_CODES.ALIAS_CONFLICT }, `${conflict}; the alias is not moved: pick an alias that is not an upstream tag`);
      metrics.aliasMoves.inc({ outcome: 'refused' });
    }
    out.action = 'refused';
    return save({ ...base, waitingFor: null, error: { code: WATCH_ERROR_CODES.ALIAS_CONFLICT, message: conflict } });
  }

  const sel = status.selected;
  const rec = sel ? await d.store.get(tagRef(w, sel.tag)) : undefined;
  const ready = sel && rec?.state === 'mirrored' && rec.digest && (rec.sourceDigest ?? rec.digest) === sel.digest;
  if (!sel || !ready) {
    out.action = 'waiting';
    return save({ ...base, waitingFor: sel?.digest ?? null, error: null });
  }
  const target = rec.digest!;
  const mirrorRepo = mirrorRepositoryOf(d, w);
  const aliasRef = `${mirrorRepo}:${alias}`;
  const now = new Date().toISOString();
  try {
    if (base.digest === target) {
      const verify = o.verify || !!base.error || aliasNeedsVerify(base, Date.now(), o.verifyEveryMs);
      if (!verify) return save({ ...base, waitingFor: null });
      const head = await d.engine.resolveDigest(aliasRef, d.signal);
      if (head?.digest === target) return save({ ...base, verifiedAt: now, waitingFor: null, error: null });
      out.action = 'repaired';
      d.logger.warn({ watch: w.id, alias: aliasRef, found: head?.digest ?? null, want: target }, 'the alias tag in the mirror is missing or elsewhere: putting it back');
    } else out.action = 'moved';
    const m = await d.engine.getManifest(`${mirrorRepo}@${target}`, d.signal);
    await d.engine.putManifest(aliasRef, m.bytes, m.mediaType, d.signal);
  } catch (e) {
    out.action = 'failed';
    metrics.aliasMoves.inc({ outcome: 'failed' });
    const message = describeError(e);
    d.logger.warn({ watch: w.id, alias: aliasRef, digest: target, err: message, code: isFerryError(e) ? e.code : undefined }, 'moving the alias failed; the next poll or copy tries again');
    return save({ ...base, waitingFor: null, error: { code: WATCH_ERROR_CODES.ALIAS_FAILED, message } });
  }
  metrics.aliasMoves.inc({ outcome: out.action });
  d.logger.info({ watch: w.id, alias: aliasRef, digest: target, previous: base.digest, tag: sel.tag }, `alias ${alias} ${out.action === 'moved' ? 'moved' : 'repaired'}: ${aliasRef} -> ${target}`);
  return save({ tag: alias, digest: target, movedAt: now, verifiedAt: now, waitingFor: null, error: null });
}
