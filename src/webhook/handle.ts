import { decide, type CompiledPolicy, type ContainerInput, type NamespaceAnnotations, type PodDecision } from '../policy/index.js';
import type { ImageView } from '../queue/record.js';
import type { AdmissionRequest, AdmissionResponse, Container, Pod } from './admission.js';
import { buildPatch } from './patch.js';

export interface HandleDeps {
  policy: CompiledPolicy;
  namespaceAnnotations(namespace: string): NamespaceAnnotations;
  lookup(ref: string): ImageView | undefined;
}

export type Outcome = 'allowed' | 'patched' | 'denied' | 'ignored';

export interface HandleResult {
  response: AdmissionResponse;
  outcome: Outcome;
  decision?: PodDecision;
}

function containersOf(pod: Pod, onlyNewEphemeral: Set<string> | undefined): ContainerInput[] {
  const out: ContainerInput[] = [];
  const lists = onlyNewEphemeral ? (['ephemeralContainers'] as const) : (['containers', 'initContainers', 'ephemeralContainers'] as const);
  for (const list of lists) {
    const items = pod.spec?.[list];
    if (!Array.isArray(items)) continue;
    items.forEach((c: Container, index) => {
      if (typeof c?.image !== 'string') return;
      if (onlyNewEphemeral?.has(c.name)) return;
      out.push({ list, index, name: String(c.name ?? `${list}[${index}]`), image: c.image, ...(c.imagePullPolicy ? { imagePullPolicy: c.imagePullPolicy } : {}) });
    });
  }
  return out;
}

/**
 * Pods on CREATE, and the `ephemeralcontainers` subresource on UPDATE (only
 * the ephemeral containers that are new: existing ones may not change).
 * Everything else is allowed untouched.
 */
export function handleAdmission(req: AdmissionRequest, deps: HandleDeps): HandleResult {
  const allow: AdmissionResponse = { uid: req.uid, allowed: true };
  const isPod = (req.kind?.kind ?? 'Pod') === 'Pod' && (req.resource?.resource ?? 'pods') === 'pods';
  const pod = req.object;
  if (!isPod || !pod) return { response: allow, outcome: 'ignored' };
  const sub = req.subResource ?? '';
  let existingEphemeral: Set<string> | undefined;
  if (req.operation === 'CREATE' && sub === '') {
    existingEphemeral = undefined;
  } else if (req.operation === 'UPDATE' && sub === 'ephemeralcontainers') {
    existingEphemeral = new Set((req.oldObject?.spec?.ephemeralContainers ?? []).map((c) => c.name));
  } else {
    return { response: allow, outcome: 'ignored' };
  }
  const namespace = req.namespace ?? pod.metadata?.namespace ?? 'default';
  const decision = decide(
    { namespace, annotations: pod.metadata?.annotations ?? {}, containers: containersOf(pod, existingEphemeral) },
    deps.namespaceAnnotations(namespace),
    deps.policy,
    deps.lookup,
  );
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
  // The ephemeralcontainers subresource ignores metadata changes, so no annotation there.
  const ops = buildPatch(pod, decision, { annotate: existingEphemeral === undefined });
  if (ops.length === 0) return { response: { ...allow, ...warnings }, outcome: 'allowed', decision };
  return {
    outcome: 'patched',
    decision,
    response: { ...allow, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64'), ...warnings },
  };
}
