/**
 * One AdmissionReview request -> the answer, for both webhooks: `mutate`
 * (rewrites, pull policies, denials) and `validate` (the same policy,
 * deny-only, after every mutating webhook). Pure apart from the deps' reads.
 */
import {
  ANNOTATION_STATIC_MIRROR,
  decide,
  describeUse,
  validatePod,
  type CompiledPolicy,
  type DigestAliasLookup,
  type ImageList,
  type ImageUse,
  type NamespaceMeta,
  type PodDecision,
} from '../policy/index.js';
import type { ImageView } from '../image-state/index.js';
import type { AdmissionRequest, AdmissionResponse, Pod } from './admission.js';
import { buildPatch } from './patch.js';

export type WebhookKind = 'mutate' | 'validate';

export interface HandleDeps {
  policy: CompiledPolicy;
  namespace(namespace: string): NamespaceMeta;
  lookup(ref: string): ImageView | undefined;
  /** The other digests of a filtered index's digest (mirror <-> upstream), for block rules; none when absent. */
  aliases?: DigestAliasLookup;
}

export type Outcome = 'allowed' | 'patched' | 'denied' | 'ignored' | 'static';

export interface HandleResult {
  response: AdmissionResponse;
  outcome: Outcome;
  decision?: PodDecision;
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const ALL_LISTS: readonly ImageList[] = [...CONTAINER_LISTS, 'volumes'];

/** Every image `pod` names in `lists`, in spec order; malformed items are skipped, not thrown on. */
export function imagesOf(pod: Pod | undefined, lists: readonly ImageList[] = ALL_LISTS): ImageUse[] {
  const out: ImageUse[] = [];
  for (const list of lists) {
    const items = pod?.spec?.[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item: unknown, index) => {
      if (typeof item !== 'object' || item === null) return;
      const named = item as { name?: unknown };
      const name = String(named.name ?? `${list}[${index}]`);
      if (list === 'volumes') {
        const image = (item as { image?: { reference?: unknown; pullPolicy?: unknown } }).image;
        if (typeof image?.reference !== 'string') return;
        out.push({ list, index, name, image: image.reference, ...(typeof image.pullPolicy === 'string' ? { pullPolicy: image.pullPolicy } : {}) });
        return;
      }
      const c = item as { image?: unknown; imagePullPolicy?: unknown };
      if (typeof c.image !== 'string') return;
      out.push({ list, index, name, image: c.image, ...(typeof c.imagePullPolicy === 'string' ? { pullPolicy: c.imagePullPolicy } : {}) });
    });
  }
  return out;
}

/** Pull-secret names a copy or a verification may read, at most: each is an API read, and rides along in memory, Redis and jobs. */
export const MAX_PULL_SECRETS = 16;
/** A Secret's name (a DNS-1123 subdomain); nothing else can name one, so nothing else is worth a read. */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The names in `spec.imagePullSecrets` (malformed entries skipped; the
 * first MAX_PULL_SECRETS). By the time a mutating webhook runs, the
 * ServiceAccount admission plugin has copied the service account's pull
 * secrets in, so this is every secret the kubelet would pull this pod's
 * images with. Nothing has checked these names yet (validation runs after
 * the mutating webhooks): a pod author may list thousands, of any shape.
 */
export function pullSecretsOf(pod: Pod | undefined): string[] {
  const list = pod?.spec?.imagePullSecrets;
  if (!Array.isArray(list)) return [];
  const names = list.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { name?: unknown }).name : undefined));
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && SECRET_NAME.test(n)))].slice(0, MAX_PULL_SECRETS);
}

/** The images of `uses` that `old` did not name at the same place (list and name): what an UPDATE introduces. */
function introduced(uses: ImageUse[], old: Pod | undefined): ImageUse[] {
  if (!old) return uses;
  const before = new Map(imagesOf(old).map((u) => [`${u.list}/${u.name}`, u.image]));
  return uses.filter((u) => before.get(`${u.list}/${u.name}`) !== u.image);
}

interface Scope {
  images: ImageUse[];
  setPullPolicy: boolean;
  /** Metadata is writable (not through the ephemeralcontainers subresource). */
  annotate: boolean;
}

/**
 * What a request puts up for judgement. CREATE: every image. A pod UPDATE
 * (`kubectl set image pod/...`): the images it changes, with no pull-policy
 * change (immutable on update). The `ephemeralcontainers` subresource: the
 * ephemeral containers it adds. Anything else: nothing (allowed untouched).
 */
function scopeOf(req: AdmissionRequest, pod: Pod): Scope | undefined {
  const sub = req.subResource ?? '';
  if (req.operation === 'CREATE' && sub === '') return { images: imagesOf(pod), setPullPolicy: true, annotate: true };
  if (req.operation === 'UPDATE' && sub === '') return { images: introduced(imagesOf(pod), req.oldObject), setPullPolicy: false, annotate: true };
  if (req.operation === 'UPDATE' && sub === 'ephemeralcontainers') {
    return { images: introduced(imagesOf(pod, ['ephemeralContainers']), req.oldObject), setPullPolicy: true, annotate: false };
  }
  return undefined;
}

/** What ferry would have done to a static pod's mirror, as admission warnings. */
function wouldHave(decision: PodDecision): string[] {
  const out = ['ferry: static pod mirror (kubernetes.io/config.mirror): not changed or denied, the kubelet runs it from its manifest file'];
  for (const d of decision.images) {
    if (d.denied) out.push(`ferry: would deny: ${d.denied}`);
    else if (d.image) out.push(`ferry: would rewrite ${describeUse(d.use)} from "${d.use.image}" to "${d.image}"`);
    if (d.pullPolicy) out.push(`ferry: would set the pull policy of ${describeUse(d.use)} to ${d.pullPolicy}`);
  }
  return out;
}

export function handleAdmission(req: AdmissionRequest, deps: HandleDeps, kind: WebhookKind = 'mutate'): HandleResult {
  const allow: AdmissionResponse = { uid: req.uid, allowed: true };
  const isPod = (req.kind?.kind ?? 'Pod') === 'Pod' && (req.resource?.resource ?? 'pods') === 'pods';
  const pod = req.object;
  if (!isPod || !pod) return { response: allow, outcome: 'ignored' };
  const scope = scopeOf(req, pod);
  if (!scope) return { response: allow, outcome: 'ignored' };
  const namespace = req.namespace ?? pod.metadata?.namespace ?? 'default';
  const input = {
    namespace,
    annotations: pod.metadata?.annotations ?? {},
    labels: pod.metadata?.labels ?? {},
    images: scope.images,
    pullSecrets: pullSecretsOf(pod),
    setPullPolicy: scope.setPullPolicy,
  };
  const judge = kind === 'validate' ? validatePod : decide;
  const decision = judge(input, deps.namespace(namespace), deps.policy, deps.lookup, deps.aliases);
  if (pod.metadata?.annotations?.[ANNOTATION_STATIC_MIRROR] !== undefined) {
    // Said once, by the mutating webhook: the validating one would only repeat it.
    return { outcome: 'static', decision, response: kind === 'mutate' ? { ...allow, warnings: [...wouldHave(decision), ...decision.warnings] } : allow };
  }
  const warnings = decision.warnings.length ? { warnings: decision.warnings } : {};
  if (decision.denials.length) {
    return {
      outcome: 'denied',
      decision,
      response: {
        uid: req.uid,
        allowed: false,
        status: { code: 403, reason: 'Forbidden', message: `ferry denied this pod: ${decision.denials.join('; ')}` },
        ...warnings,
      },
    };
  }
  if (kind === 'validate') return { response: { ...allow, ...warnings }, outcome: 'allowed', decision };
  const ops = buildPatch(pod, decision, { annotate: scope.annotate });
  if (ops.length === 0) return { response: { ...allow, ...warnings }, outcome: 'allowed', decision };
  return {
    outcome: 'patched',
    decision,
    response: { ...allow, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64'), ...warnings },
  };
}
