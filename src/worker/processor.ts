/**
 * The BullMQ processor for `copy` jobs: record lookup, state transitions
 * (always through ImageStore, which publishes them), the copy, and the
 * failure decision. BullMQ's retry machinery is kept in step with the record:
 * the delay recorded as `nextAttemptAt` is stashed on the thrown error and
 * returned verbatim by the `ferry` backoff strategy, and every `error`
 * decision is thrown as UnrecoverableError so BullMQ never retries it.
 */
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import { describeError, FerryError, isFerryError } from '../errors.js';
import type { NotifyInput, NotifySink } from '../notify/index.js';
import { blockRuleFor } from '../policy/index.js';
import { VERIFY_JOB, type CopyJobData, type ImageStore } from '../queue/index.js';
import { REGISTRY_ERROR_CODES } from '../registry/index.js';
import { BACKOFF_HARD_CAP_MS, nextDelay, retryAfterOf } from './backoff.js';
import { decideFailure } from './failure.js';
import type { CopyEngine, CopyResult } from './engine.js';
import { activeCopies, copyBytesTotal, copyDuration, jobsTotal } from './metrics.js';
import { createProgressWriter } from './progress.js';
import { WORKER_ERROR_TABLE } from './errors.js';
import { ReferrerStep, referrerDigests } from './referrer-step.js';
import { checkSignature, SignatureRequired, verifyRuleFor, type GateResult, type SignatureEngine } from './signature-gate.js';
import type { CopyPlan, CredentialsUsed, VerifyOutcome, WorkerTenancy } from './tenancy.js';

export interface CopyJobResult {
  skipped?: 'removed' | 'blocked';
  digest?: string;
  upToDate?: boolean;
  bytesTotal?: number;
  bytesCopied?: number;
  blobsCopied?: number;
  blobsSkipped?: number;
  blobsMounted?: number;
  durationMs?: number;
  /** `verify` jobs: the namespaces checked. */
  verified?: VerifyOutcome;
}

export interface ProcessorDeps {
  store: ImageStore;
  engine: CopyEngine;
  config: () => FerryConfig;
  logger: Logger;
  /** True once shutdown gave up waiting: aborted copies are handed back to the queue, not failed. */
  handingBack: () => boolean;
  /** Tenant isolation: pod credentials, access probes, verifications. Absent: every copy uses `engine`, and nothing is learnt. */
  tenancy?: WorkerTenancy;
  /** Reads upstream cosign signatures for `verify:` rules; default: `engine` when it can (RegistryEngine). */
  signatures?: SignatureEngine;
  /** `notify:` events (`mirrored`, `error`); absent: none. */
  notifier?: NotifySink;
  now?: () => number;
  rand?: () => number;
  progressIntervalMs?: number;
}

/**
 * Thrown from the engine's `admit` hook when the source digest matches a
 * config block rule (a FerryError, so the engine passes it through as is);
 * the processor turns it into a `blocked` record, never a failed job.
 */
class BlockedByConfig extends FerryError {
  constructor(
    readonly reason: string,
    readonly digest: string | null,
  ) {
    super(WORKER_ERROR_TABLE.codes.BLOCKED_BY_CONFIG, `blocked by config: ${reason}`, { hint: WORKER_ERROR_TABLE.specs.BLOCKED_BY_CONFIG.hint });
  }
}

/** Delay chosen by the processor for a thrown error; read back by the backoff strategy. */
const chosenDelay = new WeakMap<object, number>();

/** The `settings.backoffStrategy` for job backoff type `ferry`. */
export function backoffStrategy(config: () => FerryConfig, rand: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    const stashed = err ? chosenDelay.get(err) : undefined;
    return stashed ?? nextDelay(attemptsMade, config().queue.backoff, err, rand);
  };
}

export function createProcessor(d: ProcessorDeps) {
  const now = d.now ?? Date.now;
  const rand = d.rand ?? Math.random;
  // Declared with three parameters: BullMQ only passes the abort signal to processors whose length >= 3.
  return async (job: Job<CopyJobData, CopyJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<CopyJobResult> => {
    const { ref, mirrorRef } = job.data;
    const cfg = d.config();
    const log = d.logger.child({ ref, jobId: job.id });
    // best effort: the record's transition stands whether or not the event could be queued
    const notify = (input: NotifyInput): Promise<void> =>
      d.notifier ? d.notifier.emit(input).then(() => {}, (e) => log.warn({ err: describeError(e), event: input.event }, 'notify: could not queue the event')) : Promise.resolve();
    if (job.name === VERIFY_JOB) return { verified: d.tenancy ? await d.tenancy.verifyPending(ref, signal) : { granted: [], notGranted: [] } };
    const record = await d.store.get(ref);
    if (!record || record.state === 'blocked') {
      const skipped = record ? 'blocked' : 'removed';
      jobsTotal.inc({ outcome: 'skipped' });
      log.info({ skipped }, 'copy job skipped: image %s', skipped);
      return { skipped };
    }
    // Watches, the API and old jobs all end here: a config block rule (by pattern now, by digest once resolved) keeps the image out.
    const markBlocked = async (b: BlockedByConfig): Promise<CopyJobResult> => {
      await d.store.update(ref, { state: 'blocked', blockedReason: b.message, nextAttemptAt: null, ...(b.digest ? { digest: b.digest } : {}) });
      jobsTotal.inc({ outcome: 'skipped' });
      log.warn({ reason: b.reason, digest: b.digest }, 'copy job skipped: image is blocked by config');
      return { skipped: 'blocked' };
    };
    const byPattern = blockRuleFor(cfg, ref);
    if (byPattern) return markBlocked(new BlockedByConfig(byPattern.reason, null));
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    // A job for an image that is already mirrored (a stray duplicate) re-checks quietly: the record stays `mirrored`.
    const quiet = record.state === 'mirrored';
    if (!quiet) {
      const r = await d.store.update(ref, { state: 'copying', attempts: attempt, maxAttempts, nextAttemptAt: null, bytesDone: 0 });
      if (!r) {
        jobsTotal.inc({ outcome: 'skipped' });
        return { skipped: 'removed' };
      }
    }
    const progress = createProgressWriter((done, total) => d.store.progress(ref, done, total), d.progressIntervalMs ?? 250, undefined, (e) =>
      log.debug({ err: String(e) }, 'progress write failed'),
    );
    const plan: CopyPlan | undefined = await d.tenancy?.copyPlan(ref, job.data.requester);
    const t0 = performance.now();
    activeCopies.inc();
    let result: CopyResult;
    let used: CredentialsUsed = 'ferry';
    // `verify:` (SPEC "Supply chain"): the first matching rule's outcome, checked in admit before anything is written.
    let gate: GateResult | undefined;
    // `copy.referrers`: started once the copy admitted the source digest, alongside the blob transfer (referrer-step.ts)
    const referrerStep = referrerStepFor(d.engine, cfg, ref, mirrorRef, signal);
    try {
      const gateAdmit = async (digest: string) => {
        const rule = blockRuleFor(d.config(), ref, digest);
        if (rule) throw new BlockedByConfig(rule.reason, digest);
        const vr = verifyRuleFor(d.config(), ref);
        if (!vr) return;
        const sigs = d.signatures ?? (d.engine as Partial<SignatureEngine>);
        if (typeof sigs.findManifest !== 'function' || typeof sigs.getBlobBytes !== 'function') throw new Error('verify: this copy engine cannot read upstream signatures');
        gate = await checkSignature(sigs as SignatureEngine, vr, ref, digest, signal);
        if (gate.signature === 'verified') return;
        if (gate.mode === 'enforce') throw new SignatureRequired(gate);
        log.warn({ signature: gate.signature, reason: gate.reason, digest }, 'verify (warn): copying an image whose signature is %s', gate.signature);
      };
      const admit = async (digest: string) => {
        await gateAdmit(digest);
        referrerStep?.start(digest);
      };
      // the digest this tag had when last copied: none = a first copy, which GETs the manifest at once (one round trip less)
      const knownSourceDigest = record.sourceDigest ?? null;
      const opts = { src: ref, dst: mirrorRef, platforms: cfg.copy.platforms, knownSourceDigest, ...(signal ? { signal } : {}), onProgress: progress.onProgress, admit };
      if (d.tenancy && plan) ({ result, used } = await d.tenancy.copy(plan, opts, d.engine));
      else result = await d.engine.copy(opts);
    } catch (e) {
      activeCopies.dec();
      // the referrer step stops with the copy; its own failure is dropped, the copy's error is the one handled below
      await referrerStep?.abandon();
      await progress.flush();
      if (e instanceof BlockedByConfig) return markBlocked(e);
      const seconds = (performance.now() - t0) / 1000;
      if (signal?.aborted && d.handingBack() && token) {
        // Shutdown ran out of patience: give the job back untouched (no attempt counted) for another worker.
        copyDuration.observe({ outcome: 'handed_back' }, seconds);
        jobsTotal.inc({ outcome: 'handed_back' });
        await d.store.update(ref, { state: 'queued', nextAttemptAt: null });
        await job.moveToWait(token);
        log.warn('shutdown: copy interrupted and handed back to the queue');
        throw new WaitingError();
      }
      if (token && isHeldByPullLimit(e)) {
        // Nothing was sent: the registry's pull allowance (Docker Hub's) is used up until a known time. Waiting for
        // it is not a failed attempt, or a few hours' hold would burn queue.maxAttempts and land the image in error.
        const delayMs = Math.min(retryAfterOf(e) ?? cfg.queue.backoff.initialMs, BACKOFF_HARD_CAP_MS);
        const lastError = describeError(e);
        copyDuration.observe({ outcome: 'failed' }, seconds);
        jobsTotal.inc({ outcome: 'retrying' });
        await d.store.update(ref, { state: 'retrying', attempts: attempt - 1, maxAttempts, lastError, nextAttemptAt: new Date(now() + delayMs).toISOString() });
        await job.moveToDelayed(Date.now() + delayMs, token);
        log.warn({ delayMs, err: lastError }, 'pull limit reached; copy held until it resets (no attempt counted)');
        throw new DelayedError();
      }
      const decision = decideFailure({ attempt, maxAttempts, err: e, backoff: cfg.queue.backoff, now: now(), rand });
      copyDuration.observe({ outcome: 'failed' }, seconds);
      jobsTotal.inc({ outcome: decision.state });
      if (decision.state === 'retrying') {
        await d.store.update(ref, { state: 'retrying', attempts: attempt, maxAttempts, lastError: decision.lastError, nextAttemptAt: decision.nextAttemptAt });
        log.warn({ attempt, maxAttempts, delayMs: decision.delayMs, err: decision.lastError }, 'copy failed; retrying');
        const err = e instanceof Error ? e : new Error(decision.lastError);
        chosenDelay.set(err, decision.delayMs);
        throw err;
      }
      await d.store.update(ref, {
        state: 'error',
        attempts: attempt,
        maxAttempts,
        lastError: decision.lastError,
        nextAttemptAt: null,
        // an `error` record names a signature only when verify (enforce) refused it: the policy denies pods by that
        signature: e instanceof SignatureRequired ? e.gate.signature : null,
      });
      log.error({ attempt, maxAttempts, permanent: decision.permanent, err: decision.lastError }, 'copy failed; giving up');
      await notify({
        event: 'error',
        ref,
        mirrorRef,
        oldDigest: record.digest ?? null,
        newDigest: null,
        error: { code: isFerryError(e) ? e.code : null, message: decision.lastError },
        occurrence: `job ${job.id ?? ''}`,
      });
      throw new UnrecoverableError(decision.lastError);
    }
    activeCopies.dec();
    await progress.flush();
    const durationMs = performance.now() - t0;
    const outcome = result.upToDate ? 'up_to_date' : 'mirrored';
    copyDuration.observe({ outcome }, durationMs / 1000);
    copyBytesTotal.inc(result.bytesCopied);
    jobsTotal.inc({ outcome });
    // Signatures, SBOMs, attestations: on every copy, up to date or not (new ones reach the mirror); a failure only warns.
    // The children (and a filtered index) are handed to the running step now; it is awaited below (never rejects).
    const referrersDone = copyReferrersAfter(referrerStep, result, log);
    const access = d.tenancy && plan ? await d.tenancy.afterCopy(ref, plan, used, { upToDate: result.upToDate, known: record.access, signal }) : undefined;
    const referrers = await referrersDone;
    // Blocked (or removed) while the copy ran: leave that state alone.
    const current = await d.store.get(ref);
    if (current && current.state !== 'blocked') {
      // An up-to-date check reads no blobs (the engine reports bytesTotal 0): keep the size already on record.
      const bytesTotal = result.upToDate && result.bytesTotal === 0 ? current.bytesTotal : result.bytesTotal;
      await d.store.update(ref, {
        state: 'mirrored',
        digest: result.digest,
        sourceDigest: result.sourceDigest,
        bytesTotal,
        bytesDone: bytesTotal,
        ...(referrers !== undefined ? { referrers } : {}),
        mirroredAt: new Date(now()).toISOString(),
        lastError: null,
        nextAttemptAt: null,
        signature: gate?.signature ?? null,
        // a probe that said nothing leaves access unknown: the last copy's answer was about other content
        ...(d.tenancy && plan ? { access: access ?? null } : {}),
        ...(quiet ? {} : { attempts: attempt, maxAttempts }),
      });
      // A new digest in the mirror (a first copy, or the tag moved); an up-to-date re-check is not an event.
      if (result.digest !== current.digest) await notify({ event: 'mirrored', ref, mirrorRef, oldDigest: current.digest ?? null, newDigest: result.digest });
      // Namespaces that asked while the copy ran are checked now that there is a digest to check against.
      await d.tenancy?.verifyPending(ref, signal).catch((e) => log.warn({ err: describeError(e) }, 'checking the namespaces waiting for this image failed'));
    }
    log.info({ digest: result.digest, upToDate: result.upToDate, bytesCopied: result.bytesCopied, ms: Math.round(durationMs) }, 'image mirrored');
    return {
      digest: result.digest,
      upToDate: result.upToDate,
      bytesTotal: result.bytesTotal,
      bytesCopied: result.bytesCopied,
      blobsCopied: result.blobsCopied,
      blobsSkipped: result.blobsSkipped,
      blobsMounted: result.blobsMounted,
      durationMs: Math.round(durationMs),
    };
  };
}

/** The referrer step of one copy job, or undefined when `copy.referrers` is off or the engine cannot copy referrers. */
function referrerStepFor(engine: CopyEngine, cfg: FerryConfig, ref: string, mirrorRef: string, signal: AbortSignal | undefined): ReferrerStep | undefined {
  if (!cfg.copy.referrers || !engine.copyReferrers) return undefined;
  const copyReferrers = engine.copyReferrers.bind(engine);
  return new ReferrerStep({ copyReferrers }, { src: ref, dst: mirrorRef, artifactTypes: cfg.copy.referrerArtifactTypes, ...(signal ? { signal } : {}) });
}

/**
 * `copy.referrers`: the referrers of the source digest (started while the
 * blobs moved), of each child copied and of the filtered index pushed (pods
 * run that one) are copied into the mirror. Resolves with how many the mirror
 * now holds for the image (found: pushed now or already there), or undefined
 * when off, unsupported by the engine, or failed (warned; the image copy
 * stands and the count on record is kept). Never rejects.
 */
async function copyReferrersAfter(step: ReferrerStep | undefined, result: CopyResult, log: Logger): Promise<number | undefined> {
  if (!step) return undefined;
  try {
    const r = await step.finish(result);
    if (r.copied > 0) log.info({ copied: r.copied, found: r.found.length, requests: r.requests }, 'referrers copied');
    return r.found.length;
  } catch (e) {
    log.warn({ err: describeError(e), digests: referrerDigests(result) }, 'copying the referrers failed; the image stays mirrored');
    return undefined;
  }
}

/** A copy refused before sending anything because the registry's pull allowance is used up (FERRY_ERR_REGISTRY_PULL_LIMIT). */
function isHeldByPullLimit(e: unknown): boolean {
  return e instanceof FerryError && e.code === REGISTRY_ERROR_CODES.PULL_LIMIT;
}
