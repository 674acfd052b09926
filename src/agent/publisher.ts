/**
 * Publishes this node's NodeState to Redis (NodeStateStore): shortly after
 * each change (debounced, so a burst of pulls is one write) and every
 * resync, which is what keeps `seenAt` fresh. A failed write (Redis away) is
 * logged once per outage and made again at the next change or resync:
 * the agent's work on the node never waits for Redis.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import type { NodeState, NodeStateStore } from '../nodes/index.js';

export interface PublisherOptions {
  store: Pick<NodeStateStore, 'publish'>;
  /** The state to publish now (seenAt is set here). */
  build(): Omit<NodeState, 'seenAt'>;
  logger: Logger;
  /** @defaultValue 250 */
  debounceMs?: number;
  now?: () => number;
}

export interface PublisherEvents {
  published: [NodeState];
}

export class NodeStatePublisher extends EventEmitter<PublisherEvents> {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private closed = false;

  constructor(private readonly o: PublisherOptions) {
    super();
  }

  /** Something changed: publish within debounceMs. */
  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publishNow();
    }, this.o.debounceMs ?? 250);
  }

  /** Publishes now (a write in progress is followed by one more). */
  async publishNow(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = (async () => {
      do {
        this.again = false;
        await this.write();
      } while (this.again && !this.closed);
    })().finally(() => (this.writing = undefined));
    return this.writing;
  }

  /** Stops the timer; the last publish in progress finishes. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.writing;
  }

  private async write(): Promise<void> {
    const state: NodeState = { ...this.o.build(), seenAt: new Date((this.o.now ?? Date.now)()).toISOString() };
    try {
      await this.o.store.publish(state);
      if (this.failing) this.o.logger.info({ node: state.node }, 'agent: node state published again');
      this.failing = false;
      this.emit('published', state);
    } catch (e) {
      if (!this.failing) this.o.logger.warn({ node: state.node, err: describeError(e) }, 'agent: cannot publish the node state (Redis); trying again at the next change or resync');
      this.failing = true;
    }
  }
}
