/**
 * The referrer step of a copy (`copy.referrers`, SPEC "Supply chain"),
 * overlapped with the image copy so that it does not add to the copy's time
 * (README "Performance", Referrers: target on/off <= 1.05).
 *
 *  1. `start(digest)`: called from the copy's `admit` hook, i.e. once the
 *     source HEAD named the digest and the block rules and the `verify:` gate
 *     let it through, before any blob moves. One `copyReferrers` call begins
 *     at once for that digest: tags/list, discovery, referrer manifests and
 *     their blobs into the mirror, while the image's blobs are transferred.
 *  2. `finish(result)`: after a successful copy. The children copied (and the
 *     filtered index pushed, when `result.filtered`) are known only now; they
 *     are handed to the SAME call through its `later` promise, so the walk
 *     shares the one tags/list, the referrers-API answer and the mirror
 *     state (an index still costs one tags/list). Resolves with that call's
 *     result; a failure is the caller's to report (the worker warns; the
 *     image copy stands).
 *  3. `abandon()`: the copy failed. The call is aborted and waited for; its
 *     own failure is swallowed, so the copy's error is the one reported, and
 *     nothing is left to reject unhandled.
 *
 * Order in the mirror: referrer manifests (a cosign `.sig` tag, an SBOM with
 * `subject`, the `sha256-<hex>` fallback index) may reach the mirror BEFORE
 * the image's own manifest, which the copy pushes last. That is fine:
 * docker-registry keeps manifests by digest and does not look at `subject`,
 * and the OCI distribution spec 1.1 allows a manifest whose `subject` is not
 * (yet) in the repository (the referrers list is keyed by digest); a fallback
 * tag index names only referrer manifests, which are pushed before it. What
 * stays true is the copy's own rule: the image's tag points at nothing
 * whose blobs are missing. If the copy then fails, a referrer may sit in the
 * mirror without its image until the retry brings the image: harmless
 * (nothing resolves a tag to it) and byte-identical to the upstream.
 *
 * The worker (processor.ts) and bench/referrers/run.ts both use this class:
 * the bench measures exactly what the worker runs.
 */
import { linkedSignal, type LinkedSignal } from '../async/index.js';
import type { CopyReferrersOptions, CopyReferrersResult } from '../registry/index.js';
import type { CopyResult } from './engine.js';

/** What the step needs from the engine (RegistryEngine has it). */
export interface ReferrerEngine {
  copyReferrers(opts: CopyReferrersOptions): Promise<CopyReferrersResult>;
}

export interface ReferrerStepOptions {
  /** Upstream reference (`host/path[:tag|@digest]`; the tag or digest is ignored). */
  src: string;
  /** Mirror reference. */
  dst: string;
  /** `copy.referrerArtifactTypes`; undefined or [] = all. */
  artifactTypes?: string[];
  /** The job's signal: aborting it stops the step too. */
  signal?: AbortSignal;
}

/** The digests whose referrers a copy result calls for: the source digest, each child copied, the filtered index. */
export function referrerDigests(result: Pick<CopyResult, 'sourceDigest' | 'children' | 'filtered' | 'digest'>): string[] {
  return [...new Set([result.sourceDigest, ...(result.children ?? []), ...(result.filtered ? [result.digest] : [])])];
}

interface Running {
  digest: string;
  link: LinkedSignal;
  handOver: (digests: string[]) => void;
  refuse: (err: unknown) => void;
  done: Promise<CopyReferrersResult>;
}

export class ReferrerStep {
  private running: Running | undefined;

  constructor(
    private readonly engine: ReferrerEngine,
    private readonly opts: ReferrerStepOptions,
  ) {}

  private call(digests: string[], extra: Partial<CopyReferrersOptions>, signal: AbortSignal | undefined): Promise<CopyReferrersResult> {
    const types = this.opts.artifactTypes;
    return this.engine.copyReferrers({
      src: this.opts.src,
      dst: this.opts.dst,
      digests,
      ...(types && types.length > 0 ? { artifactTypes: types } : {}),
      ...(signal ? { signal } : {}),
      ...extra,
    });
  }

  /**
   * The copy admitted `digest`: its referrers are looked for now, while the
   * blobs move. Call it only once admission passed (block rules, `verify:`).
   * Again with the same digest (a copy retried with other credentials): kept;
   * with another digest (the tag moved between attempts): restarted.
   */
  start(digest: string): void {
    if (this.running?.digest === digest) return;
    if (this.running) this.stop(this.running, new Error('the copy admitted another digest'));
    const link = linkedSignal(this.opts.signal);
    let handOver!: (digests: string[]) => void;
    let refuse!: (err: unknown) => void;
    const later = new Promise<string[]>((resolve, reject) => {
      handOver = resolve;
      refuse = reject;
    });
    // handled here too: an engine that fails before it takes `later` must not leave its rejection unhandled
    later.catch(() => {});
    const done = this.call([digest], { later }, link.signal).finally(() => link.dispose());
    // a failure while the copy still runs is picked up by finish() or dropped by abandon(): never unhandled
    done.catch(() => {});
    this.running = { digest, link, handOver, refuse, done };
  }

  /**
   * After a successful copy: the rest of the digests (children, filtered
   * index) go to the running call, which is awaited. Without a start (an
   * engine that never called `admit`) or for another source digest, one call
   * with every digest, after the copy as before.
   */
  finish(result: Pick<CopyResult, 'sourceDigest' | 'children' | 'filtered' | 'digest'>): Promise<CopyReferrersResult> {
    const digests = referrerDigests(result);
    const r = this.running;
    this.running = undefined;
    if (!r || r.digest !== result.sourceDigest) {
      if (r) this.stop(r, new Error('the copy ended on another digest'));
      return this.call(digests, {}, this.opts.signal);
    }
    r.handOver(digests.filter((d) => d !== r.digest));
    return r.done;
  }

  /** The copy failed: the step is aborted and waited for; never throws. */
  async abandon(reason: unknown = new Error('the image copy failed')): Promise<void> {
    const r = this.running;
    this.running = undefined;
    if (r) await this.stop(r, reason);
  }

  private async stop(r: Running, reason: unknown): Promise<void> {
    r.link.abort(reason);
    r.refuse(reason);
    await r.done.then(
      () => undefined,
      () => undefined,
    );
  }
}
