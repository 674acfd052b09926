/**
 * Per-operation request counting: an operation run inside `countRequests`
 * sees every registry request sent on its behalf (each wire attempt the
 * transport makes, retries and 401 replays included; the shared ping and
 * token requests are not counted), even through shared helpers such as
 * BlobTransfer, without threading a counter through every call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestCounter {
  requests: number;
}

const store = new AsyncLocalStorage<RequestCounter>();

/** Runs `fn` with a fresh counter; resolves with its result and the count. */
export async function countRequests<T>(fn: () => Promise<T>): Promise<{ value: T; requests: number }> {
  const c: RequestCounter = { requests: 0 };
  const value = await store.run(c, fn);
  return { value, requests: c.requests };
}

/** Called by the transport for every request it puts on the wire. */
export function noteRequest(): void {
  const c = store.getStore();
  if (c) c.requests++;
}
