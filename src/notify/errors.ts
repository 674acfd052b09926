/** Error codes of outgoing notifications (`FERRY_ERR_NOTIFY_<WHAT>`), docs/notify.md. */
import { defineErrors } from '../errors.js';

export const NOTIFY_ERROR_TABLE = defineErrors('NOTIFY', {
  REJECTED: {
    meaning: 'a `notify:` receiver answered 4xx (other than 408/429) or a redirect: the event is not delivered to it, not retried, and counted in ferry_notify_deliveries_total{outcome="rejected"}',
    hint: 'check the receiver URL and what it expects (it gets CloudEvents 1.0 structured JSON, content-type application/cloudevents+json; with secret, X-Ferry-Signature-256); see docs/notify.md',
    status: 502,
  },
  UNAVAILABLE: {
    meaning: 'a `notify:` receiver answered 5xx, 408 or 429: the delivery is retried with backoff (capped at 10 minutes) for about a day',
    hint: 'the receiver is failing; fix it and the queued events arrive on their next attempt',
    status: 502,
    transient: true,
  },
  UNREACHABLE: {
    meaning: 'a `notify:` receiver could not be reached (connection refused, DNS, TLS, or no answer within 10 s): the delivery is retried with backoff',
    hint: 'check that the receiver is up and reachable from ferry; queued events arrive once it is',
    status: 502,
    transient: true,
  },
  CONFIG_UNREADABLE: {
    meaning: "the old or new image config could not be read from the mirror or upstream, so the event carries `configDiff: null` and this code in `configDiffReason` (the event is still delivered)",
    hint: 'usually the old image was deleted from the mirror and upstream; nothing to do unless it happens for every event (check the registry credentials)',
    status: 502,
  },
});

export const NOTIFY_ERROR_CODES = NOTIFY_ERROR_TABLE.codes;
