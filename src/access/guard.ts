/**
 * The one guard in front of every mutating HTTP route on the shared app
 * (dashboard API, watch API, registry hook): decisions are pure functions of
 * the caller (tested for any address), the fastify hooks only apply them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { FerryConfig } from '../config/index.js';
import type { FerryError } from '../errors.js';
import { bearerToken, sameSecret } from './bearer.js';
import { hookUnauthorized, noTokenRemote, unauthorized } from './errors.js';
import { checkHookCredentials, queryTokenOf, SIGNATURE_HEADER, validSignature } from './hook-auth.js';
import { crossSiteProblem, isLoopbackAddress } from './loopback.js';

/** What the guard looks at: the socket's peer and the request headers. */
export interface Caller {
  remoteAddress: string | undefined;
  headers: IncomingHttpHeaders;
  /** The hook only: the `token` query parameter (Docker Hub, Quay). */
  queryToken?: string | undefined;
  /** The hook only: the raw body, for GitHub's X-Hub-Signature-256 (absent: a signature cannot be checked). */
  rawBody?: Buffer | undefined;
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
 * `POST /hooks/registry`: with `hooks.secret`, that secret in any of the
 * forms its senders can carry (hook-auth.ts) and nothing else (a registry
 * in the cluster sends it from any address; a browser never sends it by
 * itself); without, the same guard as every mutation.
 */
export function hookRefusal(caller: Caller, secrets: { secret: string; token: string }): FerryError | undefined {
  if (!secrets.secret) return mutationRefusal(caller, secrets.token);
  const check = checkHookCredentials(caller, secrets.secret);
  if ('by' in check) return undefined;
  if ('refusal' in check) return check.refusal;
  return validSignature(caller.rawBody, caller.headers[SIGNATURE_HEADER], secrets.secret) ? undefined : hookUnauthorized('the X-Hub-Signature-256 signature does not match the body');
}

export type RefusalListener = (req: FastifyRequest, refusal: FerryError) => void;

function asHook(decide: (caller: Caller) => FerryError | undefined, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  // onRequest: a refused caller is answered before its body is read.
  return async function guard(req: FastifyRequest, reply: FastifyReply) {
    const refusal = decide({ remoteAddress: req.socket.remoteAddress, headers: req.headers });
    if (!refusal) return;
    return refuse(req, reply, refusal, onRefused);
  };
}

/** onRequest hook for a mutating route; reads the config each time (hot reload). */
export function mutationGuard(config: () => FerryConfig, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  return asHook((caller) => mutationRefusal(caller, config().dashboard.token), onRefused);
}

/** Requests whose only credential is a signature: checked once the raw body is read (hookSignatureGuard). */
const awaitingSignature = new WeakSet<FastifyRequest>();

/**
 * onRequest hook for `POST /hooks/registry`: refuses a caller without a
 * valid credential before its body is read, except one that carries a
 * signature, which hookSignatureGuard decides.
 */
export function hookGuard(config: () => FerryConfig, onRefused?: RefusalListener): onRequestAsyncHookHandler {
  return async function guard(req: FastifyRequest, reply: FastifyReply) {
    const c = config();
    let refusal: FerryError | undefined;
    if (!c.hooks.secret) refusal = mutationRefusal({ remoteAddress: req.socket.remoteAddress, headers: req.headers }, c.dashboard.token);
    else {
      const check = checkHookCredentials({ headers: req.headers, queryToken: queryTokenOf(req.url) }, c.hooks.secret);
      if ('pending' in check) awaitingSignature.add(req);
      else if ('refusal' in check) refusal = check.refusal;
    }
    if (refusal) return refuse(req, reply, refusal, onRefused);
  };
}

/** preHandler hook for `POST /hooks/registry` (after the body parser kept `req.rawBody`): the signature check. */
export function hookSignatureGuard(config: () => FerryConfig, onRefused?: RefusalListener): preHandlerAsyncHookHandler {
  return async function signature(req: FastifyRequest, reply: FastifyReply) {
    if (!awaitingSignature.has(req)) return;
    awaitingSignature.delete(req);
    if (validSignature(req.rawBody, req.headers[SIGNATURE_HEADER], config().hooks.secret)) return;
    return refuse(req, reply, hookUnauthorized('the X-Hub-Signature-256 signature does not match the body'), onRefused);
  };
}

function refuse(req: FastifyRequest, reply: FastifyReply, refusal: FerryError, onRefused?: RefusalListener) {
  onRefused?.(req, refusal);
  if (refusal.status === 401) reply.header('www-authenticate', 'Bearer realm="ferry"');
  return reply.code(refusal.status).send(refusal.toJSON());
}
