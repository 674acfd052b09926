/**
 * Request bodies on the mutating routes: JSON only. text/plain, forms and
 * multipart are exactly what a web page can POST to another site without a
 * CORS preflight, so refusing them (415) closes that door whatever the
 * guard decides. Each route says in `config.takes` what body it takes; the
 * 415 and every 4xx hint quote it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FerryError } from '../errors.js';
import { unsupportedMediaType } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route takes, for error hints: e.g. `JSON {"reason": "..."}` or `no body (or an empty JSON body)`. */
    takes?: string;
    /** Keep the body's bytes as `req.rawBody` (the registry hook: GitHub signs the raw body). */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    /** The body as received, on routes with `config.rawBody`. */
    rawBody?: Buffer;
  }
}

export const JSON_MEDIA_TYPE = 'application/json';

export interface JsonBodyOptions {
  /** Media types parsed as JSON besides application/json (the docker-registry events type). */
  alsoAccept?: readonly string[];
  /** The scope's own error for a body that is not valid JSON. */
  invalid(req: FastifyRequest, reason: string): FerryError;
}

/** `METHOD /route takes ...`, from the route's `config.takes`, or undefined. */
export function routeTakes(req: FastifyRequest): string | undefined {
  const takes = req.routeOptions.config?.takes;
  return takes ? `${req.method} ${req.routeOptions.url ?? req.url} takes ${takes}` : undefined;
}

/**
 * Replaces the scope's body parsers: JSON (also an empty body, so
 * `curl -X POST -H 'content-type: application/json' .../retry` works),
 * everything else is a 415 naming what the route takes.
 */
export function acceptJsonBodies(scope: FastifyInstance, o: JsonBodyOptions): void {
  const accepted = [JSON_MEDIA_TYPE, ...(o.alsoAccept ?? [])];
  // fastify's own JSON parser: it refuses __proto__ / constructor poisoning like the default does.
  const strict = scope.getDefaultJsonParser('error', 'ignore');
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(accepted, { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    // Only where a route asks: a signature is over these exact bytes, not over a re-encoding of the parsed JSON.
    if (req.routeOptions.config?.rawBody) req.rawBody = raw;
    const text = raw.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    (strict as (r: FastifyRequest, b: string, d: (err: Error | null, v?: unknown) => void) => void)(req, text, (err, value) =>
      err ? done(o.invalid(req, err.message)) : done(null, value),
    );
  });
  scope.addContentTypeParser('*', (req, _payload, done) => {
    const type = req.headers['content-type'] ?? '(none)';
    done(unsupportedMediaType(type, accepted, routeTakes(req) ?? 'this route takes JSON'));
  });
}
