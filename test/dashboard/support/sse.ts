/** A minimal Server-Sent-Events client over fetch, for tests: collects frames and waits for them (no sleeps). */
export interface SseFrame {
  event: string;
  data: string;
  id?: string;
  /** A comment line (`: ...`), e.g. a heartbeat. */
  comment?: string;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers: Headers | undefined;
  private waiters: { pred: (f: SseFrame) => boolean; resolve: (f: SseFrame) => void }[] = [];
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;

  static async open(url: string): Promise<SseClient> {
    const c = new SseClient();
    const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: c.abort.signal });
    c.status = res.status;
    c.headers = res.headers;
    if (res.body) c.done = c.pump(res.body);
    return c;
  }

  private push(f: SseFrame): void {
    this.frames.push(f);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(f)) return true;
      w.resolve(f);
      return false;
    });
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: SseFrame = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) f.comment = line.slice(1).trim();
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) f.id = line.slice(4);
          }
          f.data = data.join('\n');
          if (f.comment !== undefined && data.length === 0 && f.event === 'message') f.event = 'comment';
          this.push(f);
        }
      }
    } catch {
      /* aborted */
    }
  }

  /** The first frame (already received or future) matching `pred`. */
  wait(pred: (f: SseFrame) => boolean, what: string, timeoutMs = 20_000): Promise<SseFrame> {
    const hit = this.frames.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.frames.map((f) => f.event).join(',')}`));
      }, timeoutMs);
      const done = (f: SseFrame) => {
        clearTimeout(t);
        resolve(f);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Waits for `event: state` of `ref` reaching `state`; returns its record. */
  async state(ref: string, state: string, timeoutMs?: number): Promise<Record<string, any>> {
    const f = await this.wait(
      (f) => f.event === 'state' && (JSON.parse(f.data) as { ref: string; record: { state: string } }).ref === ref && JSON.parse(f.data).record.state === state,
      `state ${ref} -> ${state}`,
      timeoutMs,
    );
    return JSON.parse(f.data).record;
  }

  /** States of `ref` seen so far, in order. */
  states(ref: string): string[] {
    return this.frames
      .filter((f) => f.event === 'state')
      .map((f) => JSON.parse(f.data) as { ref: string; record: { state: string } })
      .filter((d) => d.ref === ref)
      .map((d) => d.record.state);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
