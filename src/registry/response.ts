/**
 * One request's lifetime on the caller's side: the idle Deadline (timeout +
 * abort plumbing), the RegistryResponse whose body is read through it, and
 * the small waiting helpers (sleep, abandonable) built on AbortSignal.
 */
import { classifyThrown, RequestTimeout, registryError, type ErrorContext } from './errors.js';
import type { HeaderView, HttpResponse } from './http.js';

/**
 * Idle timer + abort plumbing for one request: aborts `signal` when the
 * parent aborts, or when no progress was reported for `ms`.
 */
export class Deadline {
  private readonly ctrl = new AbortController();
  readonly signal = this.ctrl.signal;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private onParent: (() => void) | undefined;

  constructor(
    private readonly ms: number,
    private readonly parent?: AbortSignal,
  ) {
    if (parent) {
      if (parent.aborted) this.ctrl.abort(parent.reason);
      else {
        this.onParent = () => this.ctrl.abort(parent.reason);
        parent.addEventListener('abort', this.onParent, { once: true });
      }
    }
    if (ms > 0) this.arm(ms);
  }

  private arm(wait: number): void {
    this.timer = setTimeout(() => {
      const idle = performance.now() - this.last;
      if (idle >= this.ms) this.ctrl.abort(new RequestTimeout(this.ms));
      else this.arm(this.ms - idle);
    }, wait);
  }

  /** Progress happened: restart the idle clock. */
  touch(): void {
    this.last = performance.now();
  }

  get parentAborted(): boolean {
    return !!this.parent?.aborted;
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onParent) this.parent?.removeEventListener('abort', this.onParent);
    this.onParent = undefined;
  }
}

/** A response whose body is consumed through the request's Deadline. */
export class RegistryResponse {
  constructor(
    readonly res: HttpResponse,
    private readonly dl: Deadline,
    private readonly ctx: { host: string; repository?: string; op?: string },
  ) {}

  get status(): number {
    return this.res.status;
  }
  get headers(): HeaderView {
    return this.res.headers;
  }
  /** Final URL (after redirects). */
  get url(): string {
    return this.res.url;
  }

  /** Streams the body; every chunk restarts the idle timer. Errors are classified. */
  async *body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of this.res.msg as AsyncIterable<Buffer>) {
        this.dl.touch();
        yield chunk;
      }
    } catch (e) {
      throw classifyThrown(e, this.ctx, this.dl.parentAborted);
    } finally {
      this.dl.clear();
    }
  }

  /**
   * The whole body, refused past `limit` bytes: at once when Content-Length
   * announces more, else as soon as more arrives (`tooLarge` makes the error).
   */
  async buffer(limit = 64 * 1024 * 1024, tooLarge?: (limit: number) => Error): Promise<Buffer> {
    const refuse = () => {
      this.dispose();
      return tooLarge?.(limit) ?? registryError('PROTOCOL', `response larger than ${limit} bytes`, this.ctx);
    };
    if (Number(this.res.headers.get('content-length') ?? 0) > limit) throw refuse();
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this.body()) {
      n += c.length;
      if (n > limit) throw refuse();
      parts.push(c as Buffer);
    }
    return Buffer.concat(parts, n);
  }

  async json(): Promise<any> {
    const b = await this.buffer(16 * 1024 * 1024);
    try {
      return JSON.parse(b.toString('utf8'));
    } catch {
      throw registryError('PROTOCOL', 'response is not JSON', this.ctx);
    }
  }

  /** Discards the rest of the body (small bodies are drained so the connection is reused). */
  dispose(): void {
    this.res.discard();
    this.dl.clear();
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Upload body wrapper: each chunk handed to fetch restarts the idle timer. */
export async function* touching(src: AsyncIterable<Uint8Array>, dl: Deadline): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    dl.touch();
    yield c;
  }
  dl.touch();
}

/** Path without query (upload Locations carry signed state). */
export function safePath(url: string): string {
  const q = url.indexOf('?');
  const u = q >= 0 ? url.slice(0, q) : url;
  return u.replace(/^https?:\/\/[^/]+/, '');
}

/**
 * Waits for shared work `p` with the caller's own `signal`: when it aborts,
 * only this wait is abandoned (rejecting with the reason, classified for
 * `ctx`); the work goes on for every other caller waiting on it.
 */
export function abandonable<T>(p: Promise<T>, signal: AbortSignal | undefined, ctx: ErrorContext): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(classifyThrown(signal.reason, ctx, true));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(classifyThrown(signal.reason, ctx, true));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
