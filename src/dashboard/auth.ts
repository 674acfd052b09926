import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * preHandler for mutating API calls: `Authorization: Bearer <dashboard.token>`.
 * With no token configured the server binds to 127.0.0.1 only (enforced at
 * start), and mutating calls are allowed from loopback.
 */
export function requireToken(getToken: () => string) {
  return async function checkToken(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = getToken();
    if (!token) return;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!given || !sameSecret(given, token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="ferry"')
        .send({ code: 'FERRY_ERR_DASHBOARD_UNAUTHORIZED', message: 'this action needs Authorization: Bearer <dashboard.token>' });
    }
  };
}
