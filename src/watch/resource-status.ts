/**
 * Writes ImageWatch `status` (image-watch-status.ts) through the status
 * subresource, as a JSON merge patch of `status` alone (the spec is the
 * user's; ferry never writes it), and the Events on the object: TagSelected /
 * TagMoved when a poll selects a new tag or digest, PollFailed (Warning) when
 * a poll fails, at most once per POLL_FAILED_EVERY_MS per watch unless the
 * error changes. Only the replica that polled writes (the watcher's events are
 * local), writes of one object run one at a time, and a failed write is
 * logged and left to the next poll: nothing here throws into the watcher.
 */
import type { Logger } from 'pino';
import type { EventRecorderLike, KubeClient } from '../kube/index.js';
import { IMAGE_WATCH_API_VERSION, IMAGE_WATCH_GROUP, IMAGE_WATCH_KIND, IMAGE_WATCH_PLURAL, IMAGE_WATCH_VERSION } from './image-watch-crd.js';
import type { ImageWatchObject } from './image-watch-object.js';
import { buildStatus, invalidStatus, statusChanged, type ImageWatchStatus } from './image-watch-status.js';
import { statusCodeOf } from '../kube/index.js';
import type { HeldEntry, WatchStatus } from './state.js';
import type { PollReport } from './watcher.js';

/** A failing watch says PollFailed at most this often (the same error; a new one is said at once). */
export const POLL_FAILED_EVERY_MS = 10 * 60_000;
const WRITE_TIMEOUT_MS = 10_000;

export interface StatusWriterOptions {
  kube: KubeClient;
  logger: Logger;
  /** undefined: no Events (kubernetes.events: false). */
  recorder: () => EventRecorderLike | undefined;
  /** The object behind a resource watch id, as the informer last saw it. */
  object(id: string): ImageWatchObject | undefined;
  /** ferry's state of a watch. */
  state(id: string): Promise<{ status: WatchStatus; held: HeldEntry[]; schedule: string } | undefined>;
  now?: () => Date;
}

const short = (d: string | null | undefined): string => (d ? d.replace(/^sha256:/, '').slice(0, 12) : 'none');

export class ImageWatchStatusWriter {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly failedSaid = new Map<string, { message: string; at: number }>();
  /** What this process last wrote per object (the informer's copy may lag behind our own write). */
  private readonly written = new Map<string, ImageWatchStatus>();
  private readonly api;
  private readonly mergePatch;
  private readonly now: () => Date;
  /** Status writes done (tests and metrics). */
  writes = 0;

  constructor(private readonly o: StatusWriterOptions) {
    const { k8s, config } = o.kube;
    this.api = config.makeApiClient(k8s.CustomObjectsApi);
    // The generated client prefers json-patch; a merge patch of `status` says "these fields" without reading first.
    this.mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    this.now = o.now ?? (() => new Date());
  }

  /** After a poll of a resource watch: status (when changed) and Events. */
  onPolled(report: PollReport): void {
    const obj = this.o.object(report.id);
    if (!obj) return;
    this.events(report, obj);
    this.queue(report.id, () => this.refresh(report.id));
  }

  /** After a retention pass (held changed?). */
  onRetained(id: string): void {
    if (this.o.object(id)) this.queue(id, () => this.refresh(id));
  }

  /** An ImageWatch ferry refuses: say why on it (once per generation and message). */
  onInvalid(obj: ImageWatchObject, problems: string[]): void {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!ns || !name) return;
    const id = `${ns}.${name}`;
    this.queue(id, async () => {
      const current = this.written.get(id) ?? (obj.status as Partial<ImageWatchStatus> | undefined);
      const next = invalidStatus(problems, obj.metadata?.generation, current, this.now());
      if (statusChanged(current, next, this.now())) await this.write(id, ns, name, next);
    });
  }

  /** The object is gone: forget what was said about it. */
  forget(id: string): void {
    this.written.delete(id);
    this.failedSaid.delete(id);
  }

  /** Waits for the writes queued so far. */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  private queue(id: string, work: () => Promise<void>): void {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((e: unknown) => this.o.logger.warn({ watch: id, err: String(e) }, 'ImageWatch status update failed'))
      .finally(() => {
        if (this.chains.get(id) === next) this.chains.delete(id);
      });
    this.chains.set(id, next);
  }

  private async refresh(id: string): Promise<void> {
    const obj = this.o.object(id);
    const ns = obj?.metadata?.namespace;
    const name = obj?.metadata?.name;
    if (!obj || !ns || !name) return;
    const s = await this.o.state(id);
    if (!s) return;
    const current = this.written.get(id) ?? (obj.status as Partial<ImageWatchStatus> | undefined);
    const now = this.now();
    const next = buildStatus({ generation: obj.metadata?.generation, previous: current, watch: s.status, held: s.held, schedule: s.schedule, now });
    if (statusChanged(current, next, now)) await this.write(id, ns, name, next);
  }

  private async write(id: string, namespace: string, name: string, status: ImageWatchStatus): Promise<void> {
    // null clears a field the last status had and this one has not (merge-patch semantics)
    const body = { status: { selected: null, alias: null, lastPollAt: null, ...status } };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.api.patchNamespacedCustomObjectStatus({ group: IMAGE_WATCH_GROUP, version: IMAGE_WATCH_VERSION, namespace, plural: IMAGE_WATCH_PLURAL, name, body }, this.mergePatch),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      const code = statusCodeOf(e);
      if (code === 404) return; // deleted meanwhile
      const hint = code === 403 ? ' (RBAC: the watch role needs imagewatches/status patch, see deploy/base/rbac.yaml)' : '';
      throw new Error(`${namespace}/${name}: ${code ? `HTTP ${code}` : String(e)}${hint}`);
    } finally {
      clearTimeout(timer);
    }
    this.written.set(id, status);
    this.writes++;
  }

  private events(report: PollReport, obj: ImageWatchObject): void {
    const recorder = this.o.recorder();
    const namespace = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!recorder || !namespace || !name) return;
    const involvedObject = { kind: IMAGE_WATCH_KIND, apiVersion: IMAGE_WATCH_API_VERSION, name, namespace, ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}) };
    const c = report.change;
    if (c) {
      const first = c.oldDigest === null;
      recorder.record({
        namespace,
        involvedObject,
        type: 'Normal',
        reason: first ? 'TagSelected' : 'TagMoved',
        message: first
          ? `selected ${c.tag} (${short(c.newDigest)}), mirroring to ${c.mirrorRef}`
          : `${c.previousTag ?? c.tag}@${short(c.oldDigest)} -> ${c.tag}@${short(c.newDigest)} (${c.kind}), mirroring to ${c.mirrorRef}`,
      });
    }
    if (report.error) {
      const message = `${report.error.code}: ${report.error.message}`.slice(0, 1000);
      const said = this.failedSaid.get(report.id);
      const at = this.now().getTime();
      if (said && said.message === message && at - said.at < POLL_FAILED_EVERY_MS) return;
      this.failedSaid.set(report.id, { message, at });
      recorder.record({ namespace, involvedObject, type: 'Warning', reason: 'PollFailed', message });
    } else this.failedSaid.delete(report.id);
  }
}
