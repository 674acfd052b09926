/** Strict decoders: a lenient base64 decoder turns garbage into bytes, and those into a baffling "bad signature". */
import { createHash } from 'node:crypto';

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** Standard base64 (padded), or with `urlSafe` also base64url (unpadded allowed, as DSSE permits); undefined when it is neither. */
export function decodeBase64(s: unknown, urlSafe = false): Buffer | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  if (STD.test(s)) return Buffer.from(s, 'base64');
  if (urlSafe && URL_SAFE.test(s.replace(/=+$/, '')) && s.replace(/=+$/, '').length % 4 !== 1) return Buffer.from(s, 'base64url');
  return undefined;
}

export function sha256Digest(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON from bytes, a string, or an already parsed value; undefined when not JSON. */
export function parseJson(v: unknown): unknown {
  if (Buffer.isBuffer(v) || typeof v === 'string') {
    try {
      return JSON.parse(v.toString());
    } catch {
      return undefined;
    }
  }
  return v;
}
