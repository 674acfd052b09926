/**
 * One request's lifetime on the caller's side: an idle timeout (no response,
 * or no body progress, for `ms`) on top of the caller's signal.
 */
import { RequestTimeout } from '../errors.js';
import { linkedSignal, type LinkedSignal } from '../../async/index.js';

/**
 * Idle timer + abort plumbing for one request: `signal` aborts when the
 * parent aborts, or when no progress was reported for `ms`.
 */
export class Deadline {
  private readonly link: LinkedSignal;
  readonly signal: AbortSignal;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly parent?: AbortSignal,
  ) {
    this.link = linkedSignal(parent);
    this.signal = this.link.signal;
    if (ms > 0) this.arm(ms);
  }

  private arm(wait: number): void {
    this.timer = setTimeout(() => {
      const idle = performance.now() - this.last;
      if (idle >= this.ms) this.link.abort(new RequestTimeout(this.ms));
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
    this.link.dispose();
  }
}

/** Upload body wrapper: each chunk handed to the wire restarts the idle timer. */
export async function* touching(src: AsyncIterable<Uint8Array>, dl: Deadline): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    dl.touch();
    yield c;
  }
  dl.touch();
}
