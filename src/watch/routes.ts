/**
 * HTTP routes on the shared app (dashboard port):
 *   GET    /api/watches               every watch with its status
 *   GET    /api/watches/:id           one watch
 *   GET    /api/watches/:id/history   change events + what the mirror held per tag
 *   POST   /api/watches/:id/poll      poll now (token)
 *   PUT    /api/watches/:id           create/replace an API-defined watch (token)
 *   DELETE /api/watches/:id           delete an API-defined watch (token)
 *   POST   /hooks/registry            docker-registry notifications (token when dashboard.token is set)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { requireToken } from '../dashboard/auth.js';
import { describeError, isFerryError } from '../errors.js';
import { watchError } from './errors.js';
import * as metrics from './metrics.js';
import type { Watcher } from './watcher.js';

function sendError(reply: FastifyReply, e: unknown, logger: Logger): FastifyReply {
  if (isFerryError(e)) return reply.code(e.status).send(e.toJSON());
  logger.error({ err: describeError(e) }, 'watch API failed');
  return reply.code(500).send({ code: 'FERRY_ERR_WATCH_INTERNAL', message: describeError(e) });
}

type IdParams = { Params: { id: string } };

export function watchRoutes(watcher: Watcher, getToken: () => string, logger: Logger) {
  const auth = requireToken(getToken);
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Registry notifications arrive as application/vnd.docker.distribution.events.v1+json;
    // this scope reads every body as text and parses it itself, so anything malformed is a logged 400.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.get('/api/watches', async (_req, reply) => {
      try {
        return { watches: await watcher.list() };
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.get<IdParams>('/api/watches/:id', async (req, reply) => {
      try {
        return await watcher.get(req.params.id);
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.get<IdParams>('/api/watches/:id/history', async (req, reply) => {
      try {
        return await watcher.history(req.params.id);
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.post<IdParams>('/api/watches/:id/poll', { preHandler: auth }, async (req, reply) => {
      try {
        if (!(await watcher.find(req.params.id))) throw watchError('NOT_FOUND', `no watch "${req.params.id}"`);
        const report = await watcher.poll(req.params.id, 'api', 'wait');
        if (!report) return reply.code(202).send({ id: req.params.id, deferred: true, message: 'a poll of this watch is running; it polls again right after' });
        return report;
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.put<IdParams>('/api/watches/:id', { preHandler: auth }, async (req, reply) => {
      try {
        const body = typeof req.body === 'string' && req.body !== '' ? parseJson(req.body) : req.body;
        const { created, watch } = await watcher.put(req.params.id, body);
        return reply.code(created ? 201 : 200).send(watch);
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.delete<IdParams>('/api/watches/:id', { preHandler: auth }, async (req, reply) => {
      try {
        await watcher.remove(req.params.id);
        return reply.code(204).send();
      } catch (e) {
        return sendError(reply, e, logger);
      }
    });

    app.post('/hooks/registry', { preHandler: auth }, async (req, reply) => {
      try {
        const body = typeof req.body === 'string' ? parseJson(req.body, 'HOOK_INVALID') : req.body;
        const res = await watcher.notify(body);
        metrics.hooks.inc({ outcome: res.polls.length ? 'matched' : 'ignored' });
        return reply.code(202).send(res);
      } catch (e) {
        if (isFerryError(e) && e.code === 'FERRY_ERR_WATCH_HOOK_INVALID') {
          metrics.hooks.inc({ outcome: 'invalid' });
          logger.warn({ err: e.message, contentType: req.headers['content-type'], from: req.ip }, 'registry notification rejected');
        }
        return sendError(reply, e, logger);
      }
    });
  };
}

function parseJson(text: string, kind: 'INVALID' | 'HOOK_INVALID' = 'INVALID'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw watchError(kind, `the body is not JSON: ${(e as Error).message}`);
  }
}
