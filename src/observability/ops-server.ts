import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { register } from './metrics.js';

export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: string }>;

export interface Readiness {
  checks: Map<string, ReadinessCheck>;
}

/** Adds /healthz, /readyz and /metrics to a fastify app. */
export function addOpsRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all(
      [...readiness.checks].map(async ([name, check]) => {
        try {
          results[name] = await Promise.race([
            check(),
            new Promise<{ ok: boolean; detail: string }>((r) => setTimeout(() => r({ ok: false, detail: 'timed out after 2s' }), 2000).unref()),
          ]);
        } catch (e) {
          results[name] = { ok: false, detail: (e as Error).message };
        }
      }),
    );
    const ok = Object.values(results).every((r) => r.ok);
    return reply.code(ok ? 200 : 503).send({ ok, checks: results });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', register.contentType);
    return register.metrics();
  });
}

/** Per-request log lines off: at admission rates they would drown the log. Errors still log. */
export function quietRequests(): LogController {
  return new LogController({ disableRequestLogging: true });
}

/**
 * Longest URL path parameter the shared app routes (fastify's default is 100,
 * and a longer `:ref` fell through to a misleading 400). The longest valid
 * image reference is a 255-character name, `:` + a 128-character tag and
 * `@sha512:` + 128 hex digits, about 520 characters; even with every
 * character percent-encoded (x3) that stays under 1,600. 4096 leaves room.
 */
export const MAX_PARAM_LENGTH = 4096;

/** The plain-HTTP server on `dashboard.port` every role shares (dashboard, hooks, ops endpoints). */
export function createHttpApp(logger: Logger): FastifyInstance {
  return Fastify({
    loggerInstance: logger.child({ server: 'http' }) as unknown as FastifyBaseLogger,
    logController: quietRequests(),
    // Browsers keep idle connections open; don't let them hold up SIGTERM.
    forceCloseConnections: true,
    bodyLimit: 5 * 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  }) as unknown as FastifyInstance;
}
