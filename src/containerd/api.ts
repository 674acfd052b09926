/**
 * The containerd calls the importer makes, as promises over grpc-js: every
 * call carries `containerd-namespace` and, inside an import, `containerd-lease`
 * (what keeps half-written content and snapshots from the garbage collector).
 * Answers are raw; `asContainerdFailure` turns a gRPC error into a typed one.
 */
import type * as Grpc from '@grpc/grpc-js';
import { isFerryError, type FerryError } from '../errors.js';
import { containerdError, type ContainerdErrorKind } from './errors.js';
import { containerdServices, type ContainerdServices } from './proto.js';

/** gRPC status codes used here (grpc-js's `status` enum, without loading it). */
export const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}
export interface ContentInfo {
  digest: string;
  size: number;
  labels: Record<string, string>;
}
export interface ImageRecord {
  name: string;
  labels: Record<string, string>;
  target: Descriptor;
}

type Client = Grpc.Client & Record<string, (...args: unknown[]) => Grpc.ClientUnaryCall | Grpc.ClientDuplexStream<unknown, unknown>>;

export function grpcCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

/** Any failure of a containerd call as a FerryError: ours as they are, UNAVAILABLE as UNREACHABLE, anything else as `kind`. */
export function asContainerdFailure(e: unknown, kind: ContainerdErrorKind, what: string, socket: string): FerryError {
  if (isFerryError(e)) return e;
  const code = grpcCode(e);
  const msg = (e as { details?: unknown })?.details || (e instanceof Error ? e.message : String(e));
  if (code === GRPC.UNAVAILABLE) return containerdError('UNREACHABLE', `containerd at ${socket} is unreachable (${what}): ${String(msg)}`, { cause: e });
  // containerd hashed a blob at commit and it is not what the archive says
  if (code === GRPC.FAILED_PRECONDITION && /unexpected commit (digest|size)/.test(String(msg))) {
    return containerdError('DIGEST_MISMATCH', `${what}: ${String(msg)}`, { cause: e });
  }
  if (code === GRPC.CANCELLED) return containerdError('ABORTED', `${what}: cancelled`, { cause: e });
  return containerdError(kind, `${what}: ${String(msg)}`, { cause: e, ...(code !== undefined ? { details: { grpcCode: code } } : {}) });
}

export class ContainerdApi {
  private constructor(
    readonly socket: string,
    readonly grpc: ContainerdServices['grpc'],
    private readonly clients: Record<'content' | 'images' | 'leases' | 'snapshots' | 'diff', Client>,
    private readonly namespace: string,
    private readonly lease: string | undefined,
  ) {}

  static async open(socket: string, target: string, namespace: string): Promise<ContainerdApi> {
    const s = await containerdServices();
    const creds = s.grpc.credentials.createInsecure();
    // one channel for all five services: grpc-js shares it when the options are equal
    const opts: Grpc.ClientOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    const mk = (C: ContainerdServices['Content']) => new C(target, creds, opts) as Client;
    return new ContainerdApi(socket, s.grpc, { content: mk(s.Content), images: mk(s.Images), leases: mk(s.Leases), snapshots: mk(s.Snapshots), diff: mk(s.Diff) }, namespace, undefined);
  }

  /** The same clients, every call made under `lease`. */
  withLease(lease: string): ContainerdApi {
    return new ContainerdApi(this.socket, this.grpc, this.clients, this.namespace, lease);
  }

  metadata(): Grpc.Metadata {
    const md = new this.grpc.Metadata();
    md.set('containerd-namespace', this.namespace);
    if (this.lease) md.set('containerd-lease', this.lease);
    return md;
  }

  /** Resolves once the socket answers, rejects UNREACHABLE after `ms`. */
  ready(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.clients.content.waitForReady(Date.now() + ms, (err) => {
        if (!err) return resolve();
        reject(containerdError('UNREACHABLE', `containerd at ${this.socket} did not answer within ${ms} ms: ${err.message}`, { cause: err }));
      });
    });
  }

  private unary<Res>(service: keyof ContainerdApi['clients'], method: string, req: unknown, signal?: AbortSignal): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) return reject(containerdError('ABORTED', `${method}: cancelled`, { cause: signal.reason }));
      const fn = this.clients[service][method]!.bind(this.clients[service]);
      const call = fn(req, this.metadata(), (err: Grpc.ServiceError | null, res: Res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res);
      }) as Grpc.ClientUnaryCall;
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** undefined on NOT_FOUND. */
  private async maybe<Res>(p: Promise<Res>): Promise<Res | undefined> {
    try {
      return await p;
    } catch (e) {
      if (grpcCode(e) === GRPC.NOT_FOUND) return undefined;
      throw e;
    }
  }

  async contentInfo(digest: string, signal?: AbortSignal): Promise<ContentInfo | undefined> {
    const r = await this.maybe(this.unary<{ info: ContentInfo }>('content', 'Info', { digest }, signal));
    return r?.info;
  }

  /** Sets (adds or overwrites) these labels, leaving the others. */
  async contentAddLabels(digest: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const paths = Object.keys(labels).map((k) => `labels.${k}`);
    if (paths.length === 0) return;
    await this.unary('content', 'Update', { info: { digest, labels }, updateMask: { paths } }, signal);
  }

  /** The raw bidirectional Write stream (content-writer.ts drives it). */
  contentWriteStream(): Grpc.ClientDuplexStream<unknown, { action: string; offset: number; total: number; digest: string }> {
    return this.clients.content.Write!(this.metadata()) as Grpc.ClientDuplexStream<unknown, { action: string; offset: number; total: number; digest: string }>;
  }

  async imageGet(name: string, signal?: AbortSignal): Promise<ImageRecord | undefined> {
    const r = await this.maybe(this.unary<{ image: ImageRecord | null }>('images', 'Get', { name }, signal));
    return r?.image ?? undefined;
  }

  imageCreate(image: ImageRecord, signal?: AbortSignal): Promise<unknown> {
    return this.unary('images', 'Create', { image }, signal);
  }

  imageUpdate(image: ImageRecord, paths: string[], signal?: AbortSignal): Promise<unknown> {
    return this.unary('images', 'Update', { image, updateMask: { paths } }, signal);
  }

  leaseCreate(id: string, labels: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    return this.unary('leases', 'Create', { id, labels }, signal);
  }

  leaseDelete(id: string): Promise<unknown> {
    return this.unary('leases', 'Delete', { id, sync: false });
  }

  async snapshotStat(snapshotter: string, key: string, signal?: AbortSignal): Promise<{ name: string; parent: string; kind: string } | undefined> {
    const r = await this.maybe(this.unary<{ info: { name: string; parent: string; kind: string } }>('snapshots', 'Stat', { snapshotter, key }, signal));
    return r?.info;
  }

  async snapshotPrepare(snapshotter: string, key: string, parent: string, signal?: AbortSignal): Promise<Mount[]> {
    const r = await this.unary<{ mounts: Mount[] }>('snapshots', 'Prepare', { snapshotter, key, parent }, signal);
    return r.mounts;
  }

  snapshotCommit(snapshotter: string, name: string, key: string, signal?: AbortSignal): Promise<unknown> {
    return this.unary('snapshots', 'Commit', { snapshotter, name, key }, signal);
  }

  snapshotRemove(snapshotter: string, key: string): Promise<unknown> {
    return this.unary('snapshots', 'Remove', { snapshotter, key });
  }

  async diffApply(diff: Descriptor, mounts: Mount[], signal?: AbortSignal): Promise<Descriptor> {
    const r = await this.unary<{ applied: Descriptor }>('diff', 'Apply', { diff, mounts }, signal);
    return r.applied;
  }

  close(): void {
    for (const c of Object.values(this.clients)) c.close();
  }
}
