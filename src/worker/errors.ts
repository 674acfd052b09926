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
});
