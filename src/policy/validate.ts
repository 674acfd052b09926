/**
 * The validating webhook's judgement, pure like decide(): the same policy,
 * deny-only. It runs after every mutating webhook (a sidecar injector may
 * have added or changed images after ferry's mutation), so it sees the pod
 * as it will be stored and can only say no.
 */
import { decide, describeUse, type CompiledPolicy, type DigestAliasLookup, type NamespaceMeta, type PodDecision, type PodInput } from './admission.js';
import type { ImageView } from '../image-state/index.js';

/**
 * decide(), plus: in `enforce`, an image that would still need rewriting is
 * not from the mirror, so the pod is denied (the mutating webhook would have
 * rewritten it; something after it put an upstream reference back).
 */
export function validatePod(
  pod: PodInput,
  ns: NamespaceMeta,
  policy: CompiledPolicy,
  lookup: (ref: string) => ImageView | undefined,
  aliases?: DigestAliasLookup,
): PodDecision {
  const d = decide(pod, ns, policy, lookup, aliases);
  if (d.mode !== 'enforce') return d;
  for (const img of d.images) {
    if (img.image === undefined || img.denied) continue;
    img.denied = `image "${img.use.image}" (${describeUse(img.use)}) does not come from the mirror: mode enforce admits only ${img.image}; a mutating webhook that ran after ferry's may have changed it`;
    d.denials.push(img.denied);
  }
  return d;
}
