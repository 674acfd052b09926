import { createHash, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header ('' when absent or another scheme). */
export function bearerToken(header: string | string[] | undefined): string {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return '';
  const m = /^Bearer[ \t]+(.+)$/i.exec(h.trim());
  return m ? m[1]!.trim() : '';
}

/**
 * Constant-time comparison of a presented secret with the configured one.
 * Both sides are hashed first so neither the content nor the length of the
 * secret leaks through timing (timingSafeEqual needs equal lengths).
 */
export function sameSecret(given: string, expected: string): boolean {
  if (!expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
