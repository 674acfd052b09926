/**
 * Error codes of the admission webhook (`FERRY_ERR_WEBHOOK_<WHAT>`). The
 * webhook answers the API server: 4xx for a request it cannot read, 500 when
 * it failed itself (the API server then applies the failurePolicy).
 */
import { defineErrors } from '../errors.js';

export const WEBHOOK_ERROR_TABLE = defineErrors('WEBHOOK', {
  BAD_REVIEW: {
    status: 400,
    meaning: 'the body is not an admission.k8s.io/v1 AdmissionReview with a request',
    hint: 'send an admission.k8s.io/v1 AdmissionReview with request.uid (the API server does; see test/fixtures/admission-review.json)',
  },
  BAD_REQUEST: {
    status: 400,
    meaning: 'the HTTP request itself was refused before it reached the admission code (malformed JSON, wrong content-type)',
    hint: 'send the AdmissionReview as JSON with content-type: application/json, as the API server does',
  },
  BODY_TOO_LARGE: {
    status: 413,
    meaning: 'the AdmissionReview is larger than webhook.bodyLimit',
    hint: 'raise webhook.bodyLimit (bytes) if pods this large are expected',
  },
  INTERNAL: {
    status: 500,
    meaning: 'the webhook failed on this request; it answered 500, and the API server applies the failurePolicy',
    hint: 'look for "webhook internal error" in the log; report it if it persists',
  },
  CERT: {
    meaning: 'webhook.certFile / webhook.keyFile cannot be read at start or on reload',
    hint: 'check webhook.certFile / webhook.keyFile (certs/make-certs.sh makes a pair)',
  },
});
