/**
 * Blob streaming helpers: the verifying pass-through (hash + count every
 * chunk on its way from the source GET to the mirror PUT, throwing before the
 * request body ends when size or digest is wrong, so the PUT never commits)
 * and throttled progress.
 */
import { createHash } from 'node:crypto';
import { FerryError } from '../errors.js';
import { classifyThrown, registryError, type ErrorContext } from './errors.js';

export interface VerifyState {
  /** First error seen in the stream (source failure, size or digest mismatch). */
  error?: FerryError;
  digest?: string;
  size?: number;
}

function hashAlgorithm(digest: string | undefined): string {
  const alg = digest?.split(':')[0] ?? 'sha256';
  return alg === 'sha512' || alg === 'sha384' ? alg : 'sha256';
}

/**
 * Pass-through that hashes and counts (a Transform, written as an async
 * generator so the request pulls from it with backpressure). The last chunk
 * is held back until size and digest are verified: on a mismatch it throws
 * *instead of finishing*, the request is destroyed one chunk short (of its
 * Content-Length, or of a chunked body's terminator), and the registry
 * discards the upload. Nothing unverified is ever committed.
 */
export async function* verifying(
  src: AsyncIterable<Uint8Array | string>,
  expect: { digest?: string | undefined; size?: number | undefined },
  onBytes: (n: number) => void,
  state: VerifyState,
  ctx: ErrorContext,
): AsyncGenerator<Uint8Array> {
  const alg = hashAlgorithm(expect.digest);
  const h = createHash(alg);
  let n = 0;
  let held: Uint8Array | undefined;
  try {
    for await (const raw of src) {
      const c = typeof raw === 'string' ? Buffer.from(raw) : raw;
      if (c.byteLength === 0) continue; // an empty chunk would end a chunked body early
      n += c.byteLength;
      if (expect.size !== undefined && n > expect.size) {
        throw registryError('SIZE_MISMATCH', `blob ${expect.digest ?? ''} is longer than its descriptor size ${expect.size}`, {
          ...ctx,
          details: { ...ctx.details, digest: expect.digest, expectedSize: expect.size },
        });
      }
      h.update(c);
      if (held) {
        onBytes(held.byteLength);
        yield held;
      }
      held = c;
    }
    if (expect.size !== undefined && n !== expect.size) {
      throw registryError('SIZE_MISMATCH', `blob ${expect.digest ?? ''} ended after ${n} of ${expect.size} bytes`, {
        ...ctx,
        details: { ...ctx.details, digest: expect.digest, expectedSize: expect.size, actualSize: n },
      });
    }
    const got = `${alg}:${h.digest('hex')}`;
    if (expect.digest && got !== expect.digest) {
      throw registryError('DIGEST_MISMATCH', `blob content hashes to ${got}, expected ${expect.digest}; upload aborted`, {
        ...ctx,
        details: { ...ctx.details, digest: expect.digest, actualDigest: got },
      });
    }
    state.digest = got;
    state.size = n;
    if (held) {
      onBytes(held.byteLength);
      yield held;
    }
  } catch (e) {
    state.error ??= e instanceof FerryError ? e : classifyThrown(e, ctx);
    throw state.error;
  }
}

/** Throttled progress: at most one call per `intervalMs`, plus a final call. */
export class Progress {
  done = 0;
  total = 0;
  private last = 0;
  constructor(
    private readonly cb?: (p: { bytesDone: number; bytesTotal: number }) => void,
    private readonly intervalMs = 100,
  ) {}

  add(n: number): void {
    this.done += n;
    if (!this.cb) return;
    const now = performance.now();
    if (now - this.last >= this.intervalMs) {
      this.last = now;
      this.emit();
    }
  }

  private emit(): void {
    try {
      this.cb?.({ bytesDone: Math.min(this.done, this.total || this.done), bytesTotal: this.total });
    } catch {
      /* a progress callback must not break a copy */
    }
  }

  final(): void {
    this.emit();
  }
}

/** Consumes and discards a body (e.g. a tar entry that must be read to reach the next). */
export async function drain(src: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of src) {
    /* discard */
  }
}
