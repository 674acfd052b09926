import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { compilePolicy, type DigestAliasLookup } from '../policy/index.js';
import type { EnqueueRequest } from '../queue/index.js';
import type { ImageView } from '../image-state/index.js';
import { addOpsRoutes, quietRequests, type Readiness } from '../observability/index.js';
import { decodeReview, reviewJson, type AdmissionResponse } from './admission.js';
import type { DenialEvents } from './denial-event.js';
import { WEBHOOK_ERROR_TABLE } from './errors.js';
import { handleAdmission, type Outcome, type WebhookKind } from './handle.js';
import { admissions, admissionSeconds, rewrites } from './metrics.js';
import type { NamespaceCache } from './namespaces.js';

export interface WebhookDeps {
  config(): FerryConfig;
  logger: Logger;
  namespaces: NamespaceCache;
  lookup(ref: string): ImageView | undefined;
  /** The other digests of a filtered index's digest (mirror <-> upstream); see HandleDeps.aliases. */
  aliases?: DigestAliasLookup;
  /** Buffered, never awaited on the admission path. */
  enqueue(req: EnqueueRequest): void;
  tls: { key: string; cert: string };
  readiness: Readiness;
  /** FerryDenied Events (memory only here; written later by the recorder). Absent without a cluster or with kubernetes.events off. */
  denialEvents?: DenialEvents;
}

function webhookOf(url: string): WebhookKind | 'other' {
  if (url.startsWith('/mutate')) return 'mutate';
  if (url.startsWith('/validate')) return 'validate';
  return 'other';
}

/**
 * The admission endpoints: `POST /mutate` (rewrites) and `POST /validate`
 * (the same policy, deny-only, for a ValidatingWebhookConfiguration that runs
 * after every mutation). Bad requests get 400/413 with a clear message; an
 * internal error answers allowed (fail-open) unless `webhook.failClosed`.
 */
export function createWebhookServer(deps: WebhookDeps): FastifyInstance {
  const initial = deps.config();
  const app = Fastify({
    https: { key: deps.tls.key, cert: deps.tls.cert },
    loggerInstance: deps.logger.child({ server: 'webhook' }) as unknown as FastifyBaseLogger,
    logController: quietRequests(),
    // fastify makes a child logger per request by default (~3 us each with ferry's
    // redaction); the admission path logs with the AdmissionReview uid, not a reqId.
    childLoggerFactory: (logger) => logger,
    bodyLimit: initial.webhook.bodyLimit,
    keepAliveTimeout: 65_000,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? (isFerryError(err) ? err.status : 500);
    admissions.inc({ webhook: webhookOf(req.url), outcome: status < 500 ? 'invalid' : 'error' });
    if (status === 413) {
      return reply.code(413).send({ code: WEBHOOK_ERROR_TABLE.codes.BODY_TOO_LARGE, message: `AdmissionReview larger than webhook.bodyLimit (${deps.config().webhook.bodyLimit} bytes)` });
    }
    if (status < 500) {
      const code = isFerryError(err) ? err.code : WEBHOOK_ERROR_TABLE.codes.BAD_REQUEST;
      return reply.code(status).send({ code, message: isFerryError(err) ? err.describe() : `bad request: ${err.message}` });
    }
    deps.logger.error({ err: describeError(err) }, 'webhook internal error');
    return reply.code(500).send({ code: WEBHOOK_ERROR_TABLE.codes.INTERNAL, message: 'internal error' });
  });

  // Label children resolved once: the admission path should not hash label sets per request.
  const seconds = { mutate: admissionSeconds.labels('mutate'), validate: admissionSeconds.labels('validate') };
  const counted = new Map<string, { inc(): void }>();
  const count = (webhook: WebhookKind, outcome: Outcome | 'error') => {
    const key = `${webhook}/${outcome}`;
    let c = counted.get(key);
    if (!c) counted.set(key, (c = admissions.labels(webhook, outcome)));
    c.inc();
  };
  const send = (reply: FastifyReply, response: AdmissionResponse) => reply.type('application/json; charset=utf-8').send(reviewJson(response));
  const answer = (kind: WebhookKind) => async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const request = decodeReview(req.body);
    const config = deps.config();
    try {
      const result = handleAdmission(
        request,
        { policy: compilePolicy(config), namespace: (ns) => deps.namespaces.meta(ns), lookup: deps.lookup, ...(deps.aliases ? { aliases: deps.aliases } : {}) },
        kind,
      );
      if (!request.dryRun && result.decision) {
        for (const e of result.decision.enqueue) deps.enqueue({ ...e, source: 'admission' });
      }
      count(kind, result.outcome);
      if (result.outcome === 'patched' && result.decision) {
        rewrites.inc(result.decision.images.filter((d) => d.image !== undefined).length);
      }
      if (result.outcome === 'denied') {
        deps.logger.info({ webhook: kind, uid: request.uid, namespace: request.namespace, operation: request.operation, denials: result.decision?.denials }, 'pod denied');
      }
      seconds[kind].observe(Number(process.hrtime.bigint() - started) / 1e9);
      const out = send(reply, result.response);
      // After the answer is made, and only into memory: an Event never delays or changes an admission.
      if (result.outcome === 'denied' && deps.denialEvents && config.kubernetes.events) deps.denialEvents.denied(request, result.decision?.denials ?? []);
      return out;
    } catch (e) {
      const failClosed = config.webhook.failClosed;
      count(kind, 'error');
      deps.logger.error({ webhook: kind, err: describeError(e), uid: request.uid, failClosed }, 'admission failed internally');
      return send(
        reply,
        failClosed
          ? { uid: request.uid, allowed: false, status: { code: 500, message: `ferry internal error (webhook.failClosed is on): ${describeError(e)}` } }
          : { uid: request.uid, allowed: true, warnings: ['ferry: internal error; pod admitted unchanged (fail-open)'] },
      );
    }
  };
  app.post('/mutate', answer('mutate'));
  app.post('/validate', answer('validate'));
  addOpsRoutes(app, deps.readiness);
  return app;
}
