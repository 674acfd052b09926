import type { HttpFailure } from '../errors.js';
import type { Deadline } from './deadline.js';
import type { HttpResponse } from './http.js';

/** Most of an error body read for its codes; an upstream streaming more gets no more of ferry's time. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The registry error codes (`{"errors":[{"code":...}]}`) and first message
 * of an answer that was not expected, from a bounded read of its body (a
 * HEAD has none; a body that is not JSON has no codes). Ends the request.
 */
export async function errorBodyOf(res: HttpResponse, method: string, dl: Deadline): Promise<Pick<HttpFailure, 'codes' | 'message'>> {
  let codes: string[] = [];
  let message: string | undefined;
  try {
    const text = method === 'HEAD' ? '' : await res.text(MAX_ERROR_BODY_BYTES);
    const j = text ? JSON.parse(text) : undefined;
    if (Array.isArray(j?.errors)) {
      codes = j.errors.map((x: { code?: unknown }) => String(x.code ?? '')).filter(Boolean);
      const m = j.errors[0]?.message;
      if (typeof m === 'string') message = m.slice(0, 300);
    }
  } catch {
    /* not JSON */
  } finally {
    dl.clear();
  }
  return { codes, ...(message ? { message } : {}) };
}
