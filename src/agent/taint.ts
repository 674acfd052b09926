/**
 * agent.startupTaint: the node carries a NoSchedule taint (set by the node
 * pool or kubelet --register-with-taints) until its pre-pulls are present;
 * the agent removes it then, once. A failed removal is retried with the
 * pre-pull backoff; a success (or a node without the taint) is final for
 * this process, even if an image goes missing later: the taint is about
 * start-up, not a health signal.
 */
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../async/index.js';
import { describeError, isFerryError } from '../errors.js';
import type { NodeState } from '../nodes/index.js';

export type TaintState = NonNullable<NodeState['taint']>;

export interface StartupTaintOptions {
  key: string;
  /** Removes the taint from this node (nodeObjectClient().removeTaint), or undefined when no cluster is configured. */
  remove: ((key: string) => Promise<'removed' | 'absent'>) | undefined;
  backoff(): Backoff;
  logger: Logger;
  onChange(): void;
  now?: () => number;
}

export class StartupTaint {
  private current: TaintState;
  private busy = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private pendingReady = false;

  constructor(private readonly o: StartupTaintOptions) {
    this.current = { key: o.key, removed: false };
    if (!o.remove) {
      this.current.error = 'no cluster configured: the agent cannot remove its startup taint';
      o.logger.warn({ key: o.key }, 'agent: agent.startupTaint is set but no cluster is configured (no kubeconfig, not in a pod); the taint is not removed');
    }
  }

  get state(): TaintState {
    return { ...this.current };
  }

  get done(): boolean {
    return this.current.removed;
  }

  /** Every pre-pull image is present (or not): remove the taint the first time it is. */
  ready(isReady: boolean): void {
    this.pendingReady = isReady;
    if (!isReady || this.done || this.busy || this.closed || !this.o.remove || this.retryTimer) return;
    void this.attempt();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private async attempt(): Promise<void> {
    this.busy = true;
    const now = this.o.now ?? Date.now;
    try {
      const r = await this.o.remove!(this.o.key);
      this.current = { key: this.o.key, removed: true, removedAt: new Date(now()).toISOString() };
      this.o.logger.info({ key: this.o.key, result: r }, r === 'removed' ? 'agent: every pre-pull image is present; startup taint removed' : 'agent: every pre-pull image is present; the node has no startup taint (nothing to remove)');
    } catch (e) {
      this.failures++;
      const delay = backoffDelay(this.failures, { ...this.o.backoff(), jitter: 'equal' });
      this.current = { key: this.o.key, removed: false, error: isFerryError(e) ? `[${e.code}] ${e.message}` : describeError(e) };
      this.o.logger.warn({ key: this.o.key, err: describeError(e), retryInMs: delay }, 'agent: cannot remove the startup taint; will retry');
      if (!this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.ready(this.pendingReady);
        }, delay);
      }
    } finally {
      this.busy = false;
      this.o.onChange();
    }
  }
}
