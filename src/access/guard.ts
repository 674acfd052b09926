/**
 * The one guard in front of every mutating HTTP route on the shared app
 * (dashboard API, watch API, registry hook): decisions are pure functions of
 * the caller (tested for any address), the fastify hooks only apply them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { FerryConfig } from '../config/index.js';
import type { FerryError } from '../errors.js';
import { bearerToken, sameSecret } from './bearer.js';
import { hookUnauthorized, noTokenRemote, unauthorized } from './errors.js';
import { crossSiteProblem, isLoopbackAddress } from './loopback.js';

/** What the guard looks at: the socket's peer and the request headers. */
export interface Caller {
  remoteAddress: string | undefined;
  headers: IncomingHttpHeaders;
}

/**
 * Mutations: `Authorization: Bearer <dashboard.token>` when a token is set;
 * without one, loopback callers only (even if the app is bound wider), with
 * a loopback Host and no foreign Origin.
 */
export function mutationRefusal(caller: Caller, token: string): FerryError | undefined {
  if (token) return sameSecret(bearerToken(caller.headers.authorization), token) ? undefined : unauthorized();
  if (!isLoopbackAddress(caller.remoteAddress)) return noTokenRemote(`the caller ${caller.remoteAddress ?? '?'} is not on loopback`);
  const why = crossSiteProblem(caller.headers);
  return why ? noTokenRemote(why) : undefined;
}

/**
 * `POST /hooks/registry`: with `hooks.secret`, that bearer secret and
 * nothing else (a registry in the cluster sends it from any address; a
 * browser never sends it by itself); without, the same guard as every mutation.
 */
export function hookRefusal(caller: Caller, secrets: { secret: string; token: string }): FerryError | undefined {
  if (secrets.secret) return sameSecret(bearerToken(caller.headers.authorization), secrets.secret) ? undefined : hookUnauthorized();
  return mutationRefusal(caller, secrets.token);
}

export type RefusalListener = (req: FastifyRequest, refusal: FerryError) => void;

function asHook(decide: (caller: Caller) => FerryError | undefined, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  // onRequest: a refused caller is answered before its body is read.
  return async function guard(req: FastifyRequest, reply: FastifyReply) {
    const refusal = decide({ remoteAddress: req.socket.remoteAddress, headers: req.headers });
    if (!refusal) return;
    onRefused?.(req, refusal);
    if (refusal.status === 401) reply.header('www-authenticate', 'Bearer realm="ferry"');
    return reply.code(refusal.status).send(refusal.toJSON());
  };
}

/** onRequest hook for a mutating route; reads the config each time (hot reload). */
export function mutationGuard(config: () => FerryConfig, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  return asHook((caller) => mutationRefusal(caller, config().dashboard.token), onRefused);
}

/** onRequest hook for `POST /hooks/registry`. */
export function hookGuard(config: () => FerryConfig, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  return asHook((caller) => {
    const c = config();
    return hookRefusal(caller, { secret: c.hooks.secret, token: c.dashboard.token });
  }, onRefused);
}
