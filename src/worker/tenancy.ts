/**
 * The worker's half of tenant isolation (SPEC "Trust model"; the admission
 * half is src/policy/tenancy.ts): which credentials a copy uses, what a copy
 * teaches the record (`access`, the namespace its pull secret granted), and
 * the check of other namespaces' credentials against a mirrored image.
 *
 *  - A copy uses the requesting pod's pull secret when the host has
 *    `credentialsFromPods` and the secret has an entry for it (the job's
 *    requester, else the one whose secret copied the image before); else
 *    ferry's own credentials, else none.
 *  - After a copy that used any credentials, one anonymous manifest HEAD:
 *    2xx -> `public`, 401/403/404 -> `private`, anything else leaves access
 *    unknown (admission then keeps the image from namespaces without a
 *    grant, and the next one that asks makes a worker look again). A copy
 *    with no credentials at all is `public` without a probe.
 *  - A namespace is granted when the copy used its pull secret (and asked the
 *    upstream something with it: not a digest the mirror already held), or when its
 *    own secret resolves the upstream reference to the digest ferry copied
 *    (`sourceDigest`). Waiting namespaces sit in Redis (Verifications); a
 *    `verify` job, and the end of every copy, checks them.
 *
 * Secrets are read through PullSecrets (src/kube), used through
 * CredentialEngines, and never logged: logs name the Secret, not its content.
 */
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { grantedNamespacesOf, type ImageAccess } from '../image-state/index.js';
import type { PullCredentials, PullSecretLookup } from '../kube/index.js';
import { hostTenancy } from '../policy/index.js';
import { Verifications, type ImageRecord, type ImageStore, type Requester } from '../queue/index.js';
import { codeOf, splitRef } from '../registry/index.js';
import type { CredentialEngines } from './credential-engines.js';
import type { CopyEngine, CopyRequest, CopyResult } from './engine.js';
import { WORKER_ERROR_TABLE } from './errors.js';
import { tenancyChecks } from './metrics.js';

/** What reads a namespace's pull secrets (src/kube PullSecrets fits). */
export interface PullSecretsReader {
  lookup(namespace: string, names: readonly string[], host: string): Promise<PullSecretLookup>;
}

export interface WorkerTenancyDeps {
  store: ImageStore;
  config: () => FerryConfig;
  engines: CredentialEngines;
  /** Absent: no pull secret is ever read (copies use ferry's credentials, no namespace is verified). */
  pullSecrets?: PullSecretsReader;
  logger: Logger;
}

/** The credentials a copy runs with. */
export interface CopyPlan {
  host: string;
  /** The pod's, when it has some for the host; else the copy uses ferry's own (or none). */
  pod?: { requester: Requester; credentials: PullCredentials };
}

/** Which credentials a finished copy used, as far as the record cares. */
export type CredentialsUsed = 'pod' | 'ferry' | 'none';

export interface VerifyOutcome {
  granted: string[];
  notGranted: string[];
}

const REFUSED = new Set([codeOf('UNAUTHORIZED'), codeOf('DENIED')]);

/** Did the upstream refuse the credentials (as opposed to being down)? */
export function refusedCredentials(e: unknown): boolean {
  return isFerryError(e) && REFUSED.has(e.code);
}

export class WorkerTenancy {
  readonly verifications: Verifications;

  constructor(private readonly d: WorkerTenancyDeps) {
    this.verifications = new Verifications(d.store);
  }

  private host(ref: string): string {
    return splitRef(ref).host;
  }

  /** Whether ferry's own config may have authenticated a copy from `host`. */
  ferryCredentials(host: string): boolean {
    return hostTenancy(this.d.config(), host).ferryCredentials;
  }

  /** Which credentials a copy of `ref` uses. Never throws: a secret that cannot be read means ferry's own. */
  async copyPlan(ref: string, jobRequester: Requester | undefined): Promise<CopyPlan> {
    const host = this.host(ref);
    if (!this.d.pullSecrets || !hostTenancy(this.d.config(), host).fromPods) return { host };
    try {
      // The pod that asked; else the namespace whose secret copied it last time (a watch, a refresh, a retry);
      // else one waiting to be verified (the image never copied, e.g. the first asker's secret was wrong).
      const remembered = jobRequester ? undefined : await this.verifications.requesterOf(ref);
      const candidates = jobRequester ? [jobRequester] : remembered ? [remembered] : await this.verifications.peek(ref);
      for (const requester of candidates.slice(0, 3)) {
        const found = await this.d.pullSecrets.lookup(requester.namespace, requester.pullSecrets, host);
        if (found.credentials) return { host, pod: { requester, credentials: found.credentials } };
        this.d.logger.info({ ref, namespace: requester.namespace, problems: found.problems }, "the requesting pod's pull secrets hold nothing for this registry");
      }
    } catch (e) {
      this.d.logger.warn({ ref, err: describeError(e) }, "could not read the requesting pod's pull secrets: copying with ferry's own credentials");
    }
    return { host };
  }

  /**
   * Runs the copy with the plan's credentials. When the upstream refuses the
   * pod's, once more with ferry's own (or none), as the kubelet falls back
   * to anonymous: a stale secret must not keep a public image out.
   */
  async copy(plan: CopyPlan, opts: CopyRequest, shared: CopyEngine): Promise<{ result: CopyResult; used: CredentialsUsed }> {
    const own: CredentialsUsed = this.ferryCredentials(plan.host) ? 'ferry' : 'none';
    if (!plan.pod) return { result: await shared.copy(opts), used: own };
    const { credentials, requester } = plan.pod;
    try {
      return { result: await this.d.engines.use(plan.host, credentials, (engine) => engine.copy(opts)), used: 'pod' };
    } catch (e) {
      if (!refusedCredentials(e)) throw e;
      this.d.logger.warn(
        { ref: opts.src, namespace: requester.namespace, pullSecret: credentials.source, err: describeError(e) },
        `the registry refused the requesting pod's pull secret: copying with ${own === 'ferry' ? "ferry's own credentials" : 'no credentials'}`,
      );
      try {
        return { result: await shared.copy(opts), used: own };
      } catch (again) {
        if (!refusedCredentials(again)) throw again;
        // Say whose secret it was: the registry's own hint would only point at ferry's config.
        throw WORKER_ERROR_TABLE.create(
          'PULL_SECRET_REFUSED',
          `${plan.host} refused the pull secret ${credentials.source} of the pod that asked, and then ${own === 'ferry' ? "ferry's own credentials" : 'anonymous access'}: ${(again as Error).message}`,
          { cause: again, transient: false, hint: `fix the credentials for ${plan.host} in ${credentials.source} (or give ferry its own: registries.${plan.host}.username/password or credentialsFile), then retry the image` },
        );
      }
    }
  }

  /**
   * After a successful copy, before the record says `mirrored`: grants the
   * namespace whose secret copied it (first, so its next pod is rewritten the
   * moment the record is) and finds out the access. Never throws.
   */
  async afterCopy(ref: string, plan: CopyPlan, used: CredentialsUsed, o: { upToDate: boolean; known?: ImageAccess | null | undefined; signal?: AbortSignal | undefined }): Promise<ImageAccess | undefined> {
    if (used === 'pod' && plan.pod) {
      const { requester, credentials } = plan.pod;
      // A digest the mirror already holds is up to date without a single request upstream: the secret proved
      // nothing (any secret with an entry for the host gets this far). It is checked like any other
      // namespace's, against the upstream, once the record says mirrored (the processor's verifyPending).
      const unproven = o.upToDate && splitRef(ref).digest !== undefined;
      try {
        if (unproven) await this.verifications.add(ref, requester);
        else {
          await this.d.store.grant(ref, requester.namespace);
          await this.verifications.rememberRequester(ref, requester);
          this.d.logger.info({ ref, namespace: requester.namespace, pullSecret: credentials.source }, "copied with the requesting pod's pull secret: its namespace is granted the image");
        }
      } catch (e) {
        this.d.logger.warn({ ref, namespace: requester.namespace, err: describeError(e) }, 'could not record the grant of the namespace whose pull secret copied the image');
      }
    }
    if (used === 'none') return 'public';
    // A re-check that found nothing new keeps what the last probe said: refreshes do not double their requests.
    if (o.upToDate && o.known) return o.known;
    return this.probe(ref, plan.host, o.signal);
  }

  /** One anonymous manifest HEAD: public, private, or undefined when the upstream did not say (down, 5xx...). */
  async probe(ref: string, host: string, signal?: AbortSignal): Promise<ImageAccess | undefined> {
    let access: ImageAccess | undefined;
    try {
      const found = await this.d.engines.use(host, undefined, (engine) => engine.resolveDigest(ref, signal));
      access = found ? 'public' : 'private'; // 404 to a stranger: private repositories often hide behind one
    } catch (e) {
      if (refusedCredentials(e)) access = 'private';
      else this.d.logger.warn({ ref, err: describeError(e) }, 'anonymous probe of the upstream failed: access stays unknown');
    }
    tenancyChecks.inc({ check: 'probe', outcome: access ?? 'unknown' });
    return access;
  }

  /** The access of a record that has none yet. */
  private async accessOf(record: ImageRecord, host: string, signal?: AbortSignal): Promise<ImageAccess | undefined> {
    const t = hostTenancy(this.d.config(), host);
    if (record.source === 'import' || (!t.ferryCredentials && !t.fromPods)) return 'public';
    return this.probe(record.ref, host, signal);
  }

  /**
   * Checks every namespace waiting for `ref` (a `verify` job, and the end of
   * every copy). While the image is not copied yet they keep waiting: the
   * copy's end checks them.
   */
  async verifyPending(ref: string, signal?: AbortSignal): Promise<VerifyOutcome> {
    const out: VerifyOutcome = { granted: [], notGranted: [] };
    const record = await this.d.store.get(ref);
    if (!record || record.state === 'blocked') {
      await this.verifications.take(ref);
      return out;
    }
    const expected = record.sourceDigest ?? record.digest;
    if (!record.mirroredAt || !expected) return out;
    const host = this.host(ref);
    let access = record.access ?? undefined;
    if (!access) {
      access = await this.accessOf(record, host, signal);
      if (access) await this.d.store.update(ref, { access });
    }
    if (access === 'public') {
      await this.verifications.take(ref);
      return out;
    }
    const granted = new Set(grantedNamespacesOf(record.grantedNamespaces));
    // Requests that arrive while these are checked: the next round, or their own job, picks them up.
    for (let round = 0; round < 3; round++) {
      const waiting = await this.verifications.take(ref);
      if (waiting.length === 0) break;
      for (const r of waiting) {
        if (granted.has(r.namespace)) continue;
        if (await this.verifyOne(ref, host, expected, r, signal)) {
          granted.add(r.namespace);
          out.granted.push(r.namespace);
        } else out.notGranted.push(r.namespace);
      }
    }
    return out;
  }

  /** Does `r`'s own pull secret resolve `ref` to `expected`? Grants it when so. */
  private async verifyOne(ref: string, host: string, expected: string, r: Requester, signal?: AbortSignal): Promise<boolean> {
    const log = this.d.logger.child({ ref, namespace: r.namespace });
    const outcome = (o: 'granted' | 'refused' | 'skipped') => tenancyChecks.inc({ check: 'verify', outcome: o });
    // Without credentialsFromPods ferry may not read secrets (its RBAC has no `secrets get` then).
    if (!this.d.pullSecrets || !hostTenancy(this.d.config(), host).fromPods || r.pullSecrets.length === 0) {
      outcome('skipped');
      return false;
    }
    if (await this.verifications.recentlyFailed(ref, r)) {
      outcome('skipped');
      return false;
    }
    const refused = async (why: string, extra: object = {}) => {
      await this.verifications.markFailed(ref, r);
      outcome('refused');
      log.info({ ...extra, why }, "namespace not granted the image: its pull secrets do not pull it upstream; its pods stay on the upstream reference");
      return false;
    };
    const found = await this.d.pullSecrets.lookup(r.namespace, r.pullSecrets, host);
    if (!found.credentials) return refused('no credentials for the registry in the pod\'s pull secrets', { problems: found.problems });
    const { credentials } = found;
    let digest: string | undefined;
    try {
      digest = (await this.d.engines.use(host, credentials, (engine) => engine.resolveDigest(ref, signal)))?.digest;
    } catch (e) {
      if (refusedCredentials(e)) return refused('the registry refused the credentials', { pullSecret: credentials.source });
      // Down or slow: not the namespace's fault; the next admission asks again.
      outcome('skipped');
      log.warn({ pullSecret: credentials.source, err: describeError(e) }, "could not check the namespace's pull secret against the upstream");
      return false;
    }
    if (digest !== expected) return refused(digest ? 'the upstream reference resolves to another digest with these credentials' : 'not found with these credentials', { pullSecret: credentials.source });
    await this.d.store.grant(ref, r.namespace);
    outcome('granted');
    log.info({ pullSecret: credentials.source, digest }, "namespace's own pull secret verified for the image: granted");
    return true;
  }
}
