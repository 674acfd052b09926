/**
 * The guard every mutating HTTP route on the shared app goes through (see
 * SPEC "Trust model"): token when set, else loopback only with Host/Origin
 * checks; the registry hook's own `hooks.secret` (bearer, HMAC signature, GitLab token, query token); JSON-only bodies; where
 * the app binds.
 */
export { ACCESS_ERROR_CODES } from './errors.js';
export { bearerToken, sameSecret } from './bearer.js';
export { crossSiteProblem, isLoopbackAddress, isLoopbackHostHeader } from './loopback.js';
export { hookGuard, hookRefusal, hookSignatureGuard, mutationGuard, mutationRefusal, type Caller, type RefusalListener } from './guard.js';
export { checkHookCredentials, queryTokenOf, validSignature, GITLAB_TOKEN_HEADER, QUERY_TOKEN, SIGNATURE_HEADER, type HookCredential, type HookCredentialCheck } from './hook-auth.js';
export { acceptJsonBodies, routeTakes, JSON_MEDIA_TYPE, type JsonBodyOptions } from './body.js';
export { describeBindPlan, httpBindPlan, type HttpBindPlan } from './bind.js';
