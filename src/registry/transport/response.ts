/**
 * A registry's answer as the caller sees it: the body is read through the
 * request's Deadline (every chunk restarts the idle timer, the timer stops
 * when the body is done or dropped), and read errors are classified.
 */
import { classifyThrown, registryError } from '../errors.js';
import type { Deadline } from './deadline.js';
import type { HeaderView, HttpResponse } from './http.js';

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
