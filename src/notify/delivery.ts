/**
 * One POST of a CloudEvent to one receiver, and what its answer means:
 * 2xx delivered; 408, 429, 5xx, a timeout or no connection: retry; any other
 * answer (4xx, a redirect, which is not followed): permanent.
 */
import { NOTIFY_ERROR_TABLE } from './errors.js';
import { CLOUDEVENTS_CONTENT_TYPE } from './event.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';
import type { FerryError } from '../errors.js';

export const DELIVERY_TIMEOUT_MS = 10_000;

export type Verdict = { outcome: 'delivered'; status: number } | { outcome: 'retry' | 'permanent'; status: number | null; error: FerryError };

/** Pure: the verdict on an HTTP status. */
export function classifyStatus(status: number, url: string): Verdict {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', status, error: NOTIFY_ERROR_TABLE.create('UNAVAILABLE', `notify receiver ${url} answered ${status}`, { details: { status } }) };
  }
  return { outcome: 'permanent', status, error: NOTIFY_ERROR_TABLE.create('REJECTED', `notify receiver ${url} answered ${status}: not retried`, { details: { status } }) };
}

/** The headers of one delivery; the signature covers exactly `body`. */
export function deliveryHeaders(body: string, secret: string | undefined): Record<string, string> {
  return {
    'content-type': CLOUDEVENTS_CONTENT_TYPE,
    'user-agent': 'ferry-notify',
    ...(secret ? { [SIGNATURE_HEADER]: signBody(body, secret) } : {}),
  };
}

export async function deliver(url: string, body: string, secret: string | undefined, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<Verdict> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: deliveryHeaders(body, secret), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    return { outcome: 'retry', status: null, error: NOTIFY_ERROR_TABLE.create('UNREACHABLE', `notify receiver ${url} unreachable (${cause})`, { cause: e }) };
  }
  await res.body?.cancel().catch(() => {});
  return classifyStatus(res.status, url);
}
