/**
 * Masking of credentials that hide inside strings: a redis URL in a log
 * message, an error quoting an endpoint with `user:pass@`, an upload Location
 * with a signed query, an Authorization header value. pino's path-based
 * `redact` cannot see these (it blanks keys, not substrings), so every error
 * message (FerryError, describeError) and every log line (the logger's hook)
 * goes through `redactSecretsInText`. Pure, no I/O: anything may import it.
 */

/** What a masked secret becomes, in check-config output, URLs and messages. */
export const SECRET_MARKER = '***';

/** `user:pass` -> `user:***`; `token` (userinfo without a colon, e.g. a GitHub token as user) -> `***`. */
function maskUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon >= 0 ? `${userinfo.slice(0, colon)}:${SECRET_MARKER}` : SECRET_MARKER;
}

/**
 * One URL (a config value such as `queue.redisUrl`): the password in its
 * userinfo masked, the username kept. Up to the last `@`, because an
 * unencoded `@` in a password (`redis://:p@ss@host`) still belongs to it,
 * which is also how ioredis' Sentinel parsing reads it.
 */
export function redactUrlCredentials(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url;
  const at = url.lastIndexOf('@');
  if (at <= start) return url;
  return `${url.slice(0, start + 3)}${maskUserinfo(url.slice(start + 3, at))}@${url.slice(at + 1)}`;
}

/** Query parameters that carry signatures or tokens (S3/GCS/Azure signed URLs, docker's upload `_state`, OAuth). */
const SIGNED_PARAM = /(sig|signature|token|secret|password|passwd|credential|key|_state|code)/i;

/** `Basic <base64>` is only a secret when it decodes to `user:password` ("Basic auth" stays readable). */
function looksLikeBasicCredentials(b64: string): boolean {
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  return decoded.includes(':') && !/[\u0000-\u001f\ufffd]/.test(decoded);
}

type Rule = [RegExp, (...m: string[]) => string];

/** The rules, in order. Each one leaves the text around the secret untouched, so messages stay useful. */
const TEXT_RULES: Rule[] = [
  // scheme://user:pass@host — greedy up to the last @ before a space, a slash or a quote
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/"'<>`]*)@/gi, (_m, scheme, userinfo) => `${scheme}${maskUserinfo(userinfo!)}@`],
  // ?X-Amz-Signature=...&_state=... (names that say "signature", "token", ...)
  [/([?&])([^=&\s#"']+)=([^&\s#"']+)/g, (m, sep, name, _v) => (SIGNED_PARAM.test(name!) ? `${sep}${name}=${SECRET_MARKER}` : m)],
  // Authorization: Bearer xyz / "authorization":"Basic xyz" / authorization=xyz (not a "<placeholder>" in a hint)
  [
    /(authorization["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token)\s+)?([^\s"',;]+)/gi,
    (m, head, scheme, value) => (value!.startsWith('<') ? m : `${head}${scheme ? `${scheme} ` : ''}${SECRET_MARKER}`),
  ],
  // Bearer <token>: registry tokens are long; "Bearer challenge" is a word, not a token
  [/\b(Bearer)\s+([A-Za-z0-9._~+/-]{20,}=*)/g, (_m, scheme) => `${scheme} ${SECRET_MARKER}`],
  [/\b(Basic)\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/g, (m, scheme, b64) => (looksLikeBasicCredentials(b64!) ? `${scheme} ${SECRET_MARKER}` : m)],
  // a JWT anywhere (what docker token servers hand out): header.payload.signature
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, () => SECRET_MARKER],
];

/** Fast exit: none of the rules can match a string without one of these. */
const MAYBE_SECRET = /:\/\/|[?&][^=\s]+=|authorization|bearer|basic|eyJ/i;

/** `text` with every credential the rules recognize masked; unchanged when there is none. */
export function redactSecretsInText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [re, replace] of TEXT_RULES) out = out.replace(re, replace as (...m: string[]) => string);
  return out;
}
