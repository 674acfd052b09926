/**
 * Error codes of the copy workers (`FERRY_ERR_WORKER_<WHAT>`). A copy's own
 * failures keep their FERRY_ERR_REGISTRY_* codes; these are the worker's
 * decisions.
 */
import { defineErrors } from '../errors.js';

export const WORKER_ERROR_TABLE = defineErrors('WORKER', {
  BLOCKED_BY_CONFIG: {
    meaning: 'the resolved upstream digest matches a `block:` digest rule: the image is marked blocked and no byte is copied',
    hint: 'remove the block: rule, then unblock the image from the dashboard',
  },
  PULL_SECRET_REFUSED: {
    meaning: "the upstream refused the requesting pod's pull secret (credentialsFromPods), and then ferry's own credentials or anonymous access too",
    hint: "fix the credentials for the registry in the pod's imagePullSecret (or give ferry its own: registries.<host>.username/password or credentialsFile), then retry the image",
  },
  SIGNATURE_REQUIRED: {
    meaning: 'a `verify:` rule in mode enforce matches the image and its upstream cosign signature is missing (unsigned) or does not verify with the configured keys (unverified): nothing is copied, the image goes to `error` and pods naming it are denied',
    hint: 'sign the image with one of the configured keys (cosign sign --key), or fix verify.keys / set mode: warn, then retry the image',
  },
});
