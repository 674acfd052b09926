/**
 * HTTP routes on the shared app (dashboard port):
 *   GET    /api/watches               every watch with its status
 *   GET    /api/watches/:id           one watch
 *   GET    /api/watches/:id/history   change events + what the mirror held per tag
 *   POST   /api/watches/:id/poll      poll now (guarded)
 *   PUT    /api/watches/:id           create/replace an API-defined watch (guarded)
 *   DELETE /api/watches/:id           delete an API-defined watch (guarded)
 *   POST   /hooks/registry            registry push webhooks, every format in hook-formats/ (hooks.secret, else guarded; docs/hooks.md)
 *   POST   /api/gc/run                garbage collection now, as configured (dryRun too) (guarded)
 *   POST   /api/refresh/run           drift refresh now (guarded)
 * "Guarded" = src/access: dashboard.token when set, else loopback callers
 * only with a loopback Host and no foreign Origin. Bodies are JSON only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { acceptJsonBodies, hookGuard, hookSignatureGuard, mutationGuard, routeTakes, type RefusalListener } from '../access/index.js';
import type { FerryConfig } from '../config/index.js';
import { describeError, isFerryError, type FerryError } from '../errors.js';
import { WATCH_ERROR_CODES, watchError } from './errors.js';
import { ACCEPTED_FORMATS, CLOUDEVENTS_MEDIA_TYPE, EVENTS_MEDIA_TYPE, parseHookRequest } from './hook-formats/index.js';
import { hookDeliveries } from './hook-formats/metrics.js';
import * as metrics from './metrics.js';
import type { Maintenance, MaintenanceTask } from './maintenance.js';
import type { Watcher } from './watcher.js';

type IdParams = { Params: { id: string } };

const HOOK_URL = '/hooks/registry';

const TAKES = {
  poll: 'no body (or an empty JSON body)',
  put: 'JSON: one `watch:` entry, e.g. {"image": "docker.io/library/nginx", "strategy": "semver", "constraint": "^1.27", "schedule": "*/15 * * * *"}',
  remove: 'no body',
  run: 'no body (or an empty JSON body)',
  hook: `a registry push webhook as application/json, ${EVENTS_MEDIA_TYPE} or ${CLOUDEVENTS_MEDIA_TYPE}: ${ACCEPTED_FORMATS.join('; ')} (a docker-registry notification envelope {"events": [...]} among them)`,
} as const;

export function watchRoutes(watcher: Watcher, config: () => FerryConfig, logger: Logger, maintenance?: Pick<Maintenance, 'runNow'>) {
  const isHook = (req: FastifyRequest) => req.routeOptions.url === HOOK_URL;
  const hookRejected = (req: FastifyRequest, e: FerryError) => {
    const outcome = e.status === 401 || e.status === 403 ? 'unauthorized' : 'invalid';
    metrics.hooks.inc({ outcome });
    const format = typeof e.details?.format === 'string' ? e.details.format : 'unknown';
    hookDeliveries.inc({ format, outcome });
    logger.warn({ code: e.code, err: e.message, contentType: req.headers['content-type'], from: req.ip }, 'registry notification rejected');
  };
  const onHookRefused: RefusalListener = (req, e) => hookRejected(req, e);
  const guarded = (takes: string) => ({ onRequest: mutationGuard(config), config: { takes } });

  return async function plugin(app: FastifyInstance): Promise<void> {
    // JSON only (415 for text/plain and forms: what a web page can send cross-site without a preflight);
    // docker-registry posts its envelope as application/vnd.docker.distribution.events.v1+json,
    // CloudEvents senders (Harbor) may use application/cloudevents+json: neither is sendable cross-site without a preflight.
    acceptJsonBodies(app, {
      alsoAccept: [EVENTS_MEDIA_TYPE, CLOUDEVENTS_MEDIA_TYPE],
      invalid: (req, reason) =>
        isHook(req)
          ? watchError('HOOK_INVALID', `the body is not JSON: ${reason}`)
          : watchError('INVALID', `the body is not JSON: ${reason}`, undefined, routeTakes(req)),
    });

    app.setErrorHandler((err: unknown, req, reply) => {
      if (isFerryError(err)) {
        if (isHook(req) && err.status < 500) hookRejected(req, err);
        if (err.status >= 500) logger.error({ err: describeError(err), code: err.code }, 'watch API failed');
        return reply.code(err.status).send(err.toJSON());
      }
      const e = err as { statusCode?: number; message?: string };
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        // fastify's own 4xx (body too large, bad content-length, ...): the watch shape, with what this route takes.
        const fe = watchError(isHook(req) ? 'HOOK_INVALID' : 'INVALID', e.message ?? 'bad request', undefined, routeTakes(req));
        if (isHook(req)) hookRejected(req, fe);
        return reply.code(e.statusCode).send(fe.toJSON());
      }
      logger.error({ err: describeError(err) }, 'watch API failed');
      return reply.code(500).send({ code: WATCH_ERROR_CODES.INTERNAL, message: describeError(err) });
    });

    app.get('/api/watches', async () => ({ watches: await watcher.list() }));

    app.get<IdParams>('/api/watches/:id', async (req) => watcher.get(req.params.id));

    app.get<IdParams>('/api/watches/:id/history', async (req) => watcher.history(req.params.id));

    app.post<IdParams>('/api/watches/:id/poll', guarded(TAKES.poll), async (req, reply) => {
      if (!(await watcher.find(req.params.id))) throw watchError('NOT_FOUND', `no watch "${req.params.id}"`);
      const report = await watcher.poll(req.params.id, 'api', 'wait');
      if (!report) return reply.code(202).send({ id: req.params.id, deferred: true, message: 'a poll of this watch is running; it polls again right after' });
      return report;
    });

    app.put<IdParams>('/api/watches/:id', guarded(TAKES.put), async (req, reply) => {
      const { created, watch } = await watcher.put(req.params.id, req.body);
      return reply.code(created ? 201 : 200).send(watch);
    });

    app.delete<IdParams>('/api/watches/:id', guarded(TAKES.remove), async (req, reply) => {
      await watcher.remove(req.params.id);
      return reply.code(204).send();
    });

    if (maintenance) {
      for (const task of ['gc', 'refresh'] as const satisfies readonly MaintenanceTask[]) {
        app.post(`/api/${task}/run`, guarded(TAKES.run), async (_req, reply) => {
          const report = await maintenance.runNow(task);
          // Another replica (or the schedule) holds the task's lock: its report lands where GET /api/gc reads.
          if (!report) return reply.code(202).send({ task, deferred: true, message: `a ${task} run is in progress elsewhere; its report replaces the last one when it ends` });
          return report;
        });
      }
    }

    // onRequest: refuses a wrong or missing secret before the body is read; preHandler: GitHub's signature over the raw body.
    const hookOptions = {
      onRequest: hookGuard(config, onHookRefused),
      preHandler: hookSignatureGuard(config, onHookRefused),
      config: { takes: TAKES.hook, rawBody: true },
    };
    app.post(HOOK_URL, hookOptions, async (req, reply) => {
      const delivery = parseHookRequest({ headers: req.headers, body: req.body });
      const res = await watcher.notify(delivery);
      const outcome = res.polls.length || res.rechecks?.length ? 'matched' : 'ignored';
      metrics.hooks.inc({ outcome });
      hookDeliveries.inc({ format: delivery.format, outcome });
      return reply.code(202).send({ ...res, format: delivery.format, rechecks: res.rechecks ?? [] });
    });
  };
}
