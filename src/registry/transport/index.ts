/**
 * HTTP transport to Docker Registry v2 APIs, as a stack of small wrappers in
 * the go-containerregistry style (transport.ts composes them):
 *
 *   endpoint.ts    scheme and base URL of a host
 *   ping.ts        `GET /v2/`: the host's challenge, one shared request per host
 *   authorizer.ts  the Authorization header: basic.ts, or bearer.ts (token
 *                  cache and shared flights) over token.ts (one token request)
 *   deadline.ts    per-request idle timeout over the caller's signal
 *   http.ts        the wire: node:http(s), redirects, outbound checks
 *   response.ts    the answer, its body read through the deadline
 *   error-body.ts  registry error codes from an unexpected answer
 *   retry.ts       in-process retries of transient failures
 *
 * The ping and token requests are shared by every caller asking for the same
 * host (scopes) meanwhile. They run under the transport's own signal and
 * deadline, never the first caller's: a caller whose job is cancelled
 * abandons only its own wait (`abandonable`), the others still get the answer.
 */
export { Transport, type RequestSpec, type TransportOptions } from './transport.js';
export { endpointFor, isLoopbackHost } from './endpoint.js';
export { abandonable } from './abandonable.js';
export { Deadline } from './deadline.js';
export { RegistryResponse } from './response.js';
export { withRetries, type RetryPolicy } from './retry.js';
export type { Body } from './http.js';
export { noopLogger, type Logger } from '../logger.js';
