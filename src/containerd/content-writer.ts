/**
 * One blob into containerd's content store through the Write stream: data in
 * chunks of at most 1 MiB at increasing offsets, then a COMMIT carrying the
 * expected size and digest (containerd hashes what it got and refuses a
 * mismatch) and the blob's labels. containerd answers every message; at most
 * WINDOW messages are in flight, so memory stays at a few MiB whatever the
 * blob size, and a slow disk on containerd's side slows the reader down.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerdApi } from './api.js';
import { GRPC, grpcCode } from './api.js';
import { containerdError } from './errors.js';

const CHUNK = 1024 * 1024;
const WINDOW = 4;

export interface WriteBlob {
  /** Verified by containerd at commit when given. */
  expected?: string;
  /** Verified by containerd at commit when given; else the bytes sent. */
  total?: number;
  labels?: Record<string, string>;
  data: AsyncIterable<Buffer> | Buffer;
  signal?: AbortSignal;
}

export interface WrittenBlob {
  digest: string;
  size: number;
  /** Bytes sent (0 when containerd already had the blob). */
  written: number;
}

async function* chunks(data: AsyncIterable<Buffer> | Buffer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(data)) {
    for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
    return;
  }
  for await (const c of data) {
    for (let i = 0; i < c.length; i += CHUNK) yield c.subarray(i, i + CHUNK);
  }
}

/** Writes one blob; an ALREADY_EXISTS answer (another writer won, or it was there) counts as done. */
export async function writeBlob(api: ContainerdApi, blob: WriteBlob): Promise<WrittenBlob> {
  // a ref of its own per attempt: a ref is locked while a stream holds it, and an old ingest under it would resume
  const ref = `ferry-import-${(blob.expected ?? 'blob').replace(':', '-')}-${randomBytes(6).toString('hex')}`;
  const call = api.contentWriteStream();
  let sent = 0;
  let answered = 0;
  let failed: unknown;
  let last: { action: string; digest: string; offset: number } | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  call.on('data', (m: { action: string; digest: string; offset: number }) => {
    answered++;
    last = m;
    poke();
  });
  call.on('error', (e) => {
    failed ??= e;
    poke();
  });
  call.on('end', poke);
  const onAbort = () => call.cancel();
  blob.signal?.addEventListener('abort', onAbort, { once: true });
  const waitUntil = async (ok: () => boolean) => {
    while (!ok() && failed === undefined) await new Promise<void>((r) => (wake = r));
    if (failed !== undefined) throw failed;
  };
  const send = (msg: Record<string, unknown>) => {
    if (sent === 0) msg.ref = ref;
    sent++;
    call.write(msg);
  };

  let offset = 0;
  try {
    for await (const c of chunks(blob.data)) {
      blob.signal?.throwIfAborted();
      await waitUntil(() => sent - answered < WINDOW);
      send({ action: 'WRITE', offset, data: c, ...(sent === 0 && blob.total ? { total: blob.total } : {}) });
      offset += c.length;
    }
    await waitUntil(() => sent - answered < WINDOW);
    send({ action: 'COMMIT', offset, total: blob.total ?? offset, ...(blob.expected ? { expected: blob.expected } : {}), ...(blob.labels ? { labels: blob.labels } : {}) });
    await waitUntil(() => answered === sent);
    call.end();
    if (!last || last.action !== 'COMMIT' || !last.digest) throw containerdError('IMPORT_FAILED', `content write ${ref}: containerd did not confirm the commit`);
    return { digest: last.digest, size: offset, written: offset };
  } catch (e) {
    call.cancel();
    if (grpcCode(e) === GRPC.ALREADY_EXISTS && blob.expected) return { digest: blob.expected, size: blob.total ?? offset, written: 0 };
    if (blob.signal?.aborted) throw containerdError('ABORTED', 'import cancelled', { cause: blob.signal.reason });
    throw e;
  } finally {
    blob.signal?.removeEventListener('abort', onAbort);
  }
}
