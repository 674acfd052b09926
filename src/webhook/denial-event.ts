/**
 * FerryDenied: a denied pod as a Kubernetes Warning Event (SPEC "Cluster
 * awareness"), so `kubectl describe` on what tried to create it says why.
 * Only handed to the recorder, which keeps it in memory: nothing here
 * touches the API or waits on the admission path.
 */
import type { EventRecorderLike, InvolvedObject, RecordedEvent } from '../kube/index.js';
import type { AdmissionRequest } from './admission.js';

export const REASON_DENIED = 'FerryDenied';

interface OwnerReference {
  apiVersion?: unknown;
  kind?: unknown;
  name?: unknown;
  uid?: unknown;
  controller?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The pod's controller (`ownerReferences[controller=true]`), when it names itself fully. */
function controllerOf(owners: unknown): InvolvedObject | undefined {
  if (!Array.isArray(owners)) return undefined;
  const c = owners.find((o: OwnerReference | null) => typeof o === 'object' && o !== null && o.controller === true) as OwnerReference | undefined;
  const kind = str(c?.kind);
  const name = str(c?.name);
  if (!c || !kind || !name) return undefined;
  const uid = str(c.uid);
  const apiVersion = str(c.apiVersion);
  return { kind, name, ...(uid ? { uid } : {}), ...(apiVersion ? { apiVersion } : {}) };
}

/**
 * The Event for a denial, about the object a user will look at: the pod when
 * it has a name (an UPDATE, a bare pod); else, for a pod a controller
 * creates under a generated name (a ReplicaSet's, at admission), the
 * controller, so every retry of a crash-looping Deployment is the same
 * Event, counted; else the pod by its `generateName`.
 */
export function deniedEvent(req: AdmissionRequest, denials: readonly string[]): RecordedEvent {
  const md = req.object?.metadata ?? {};
  const namespace = req.namespace ?? str(md.namespace) ?? 'default';
  const why = denials.join('; ');
  const name = str(md.name) ?? str(req.name);
  const uid = str(md.uid);
  const owner = name ? undefined : controllerOf(md.ownerReferences);
  if (owner) {
    return { namespace, involvedObject: owner, type: 'Warning', reason: REASON_DENIED, message: `ferry denied a pod of this ${owner.kind}: ${why}` };
  }
  const involvedObject: InvolvedObject = { kind: 'Pod', name: name ?? str(md.generateName) ?? 'unnamed', apiVersion: 'v1', ...(uid ? { uid } : {}) };
  return { namespace, involvedObject, type: 'Warning', reason: REASON_DENIED, message: `ferry denied this pod: ${why}` };
}

/** How many AdmissionReview uids are remembered to drop a second denial of the same request. */
const RECENT_UIDS = 1024;

/**
 * Denials -> the recorder. One AdmissionReview uid makes one Event
 * occurrence: the API server stops at the first webhook that denies, so the
 * mutating and validating webhooks never both deny one request, but a
 * review re-sent with its uid (a client retry) must not count twice.
 */
export class DenialEvents {
  private readonly recent = new Set<string>();

  constructor(private readonly recorder: EventRecorderLike) {}

  denied(req: AdmissionRequest, denials: readonly string[]): void {
    try {
      if (req.dryRun || denials.length === 0) return;
      if (this.recent.has(req.uid)) return;
      this.recent.add(req.uid);
      if (this.recent.size > RECENT_UIDS) this.recent.delete(this.recent.values().next().value!);
      this.recorder.record(deniedEvent(req, denials));
    } catch {
      // An Event is a courtesy: it never changes an admission answer.
    }
  }
}
