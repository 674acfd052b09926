/**
 * The node runtime's CRI image service over its unix socket: Version,
 * ImageStatus, ListImages and PullImage of `runtime.v1`, each call with a
 * deadline and, where the caller has one, an AbortSignal that cancels it.
 *
 * Lazy: connectCri does no I/O and loads no gRPC code; the first call loads
 * the services (proto.ts) and opens one channel shared by both services.
 * grpc-js does not wait for a socket that is missing or refuses (no
 * waitForReady), so an unreachable runtime fails the call at once as
 * FERRY_ERR_CRI_UNREACHABLE rather than at the deadline.
 */
import type * as Grpc from '@grpc/grpc-js';
import { tryParseReference } from '../reference/index.js';
import { CRI_ERROR_TABLE } from './errors.js';
import { criErrorFrom } from './grpc-status.js';
import { criServices } from './proto.js';
import { criTarget } from './socket-target.js';
import type { ConnectOptions, CriAuth, CriImage, CriImageService, CriVersion, PullOptions } from './types.js';

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
export const DEFAULT_PULL_TIMEOUT_MS = 30 * 60_000;
/** The kubelet's limit too: a ListImages of a node with thousands of images exceeds grpc-js's 4 MiB default. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** An Image message as proto-loader decodes it (camelCase, defaults filled, uint64 as Number). */
interface WireImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

type Callback = (err: Grpc.ServiceError | null, res: unknown) => void;
type UnaryMethod = (req: object, meta: Grpc.Metadata, opts: Grpc.CallOptions, cb: Callback) => Grpc.ClientUnaryCall;

interface Connection {
  grpc: typeof Grpc;
  channel: Grpc.Channel;
  runtime: Grpc.Client;
  image: Grpc.Client;
}

const toImage = (w: WireImage): CriImage => ({ id: w.id, repoTags: [...w.repoTags], repoDigests: [...w.repoDigests], size: Number(w.size) });

/**
 * CriAuth as the wire's AuthConfig: only the fields given. containerd parses
 * serverAddress as a URL and compares its host with the endpoint's, so a
 * bare `host:port` (which fails its parse, failing the pull) gets a scheme.
 */
function toAuthConfig(a: CriAuth): Record<string, string> {
  const out = Object.fromEntries(Object.entries(a).filter(([, v]) => typeof v === 'string' && v !== '')) as Record<string, string>;
  if (out.serverAddress && !/^[a-z][a-z0-9+.-]*:\/\//i.test(out.serverAddress)) out.serverAddress = `https://${out.serverAddress}`;
  return out;
}

/** socket: a unix path (/run/containerd/containerd.sock) or unix:// URL. Lazy: connects on first call. */
export function connectCri(socket: string, opts: ConnectOptions = {}): CriImageService {
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const pullTimeoutMs = opts.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  let connecting: Promise<Connection> | undefined;
  let connection: Connection | undefined;
  let closed = false;

  const connect = (): Promise<Connection> => {
    if (closed) return Promise.reject(CRI_ERROR_TABLE.create('CALL_FAILED', `the CRI client for ${socket} is closed`, { transient: false }));
    connecting ??= (async () => {
      const t = criTarget(socket);
      if (t instanceof Error) throw t;
      const { grpc, RuntimeService, ImageService } = await criServices();
      const options: Grpc.ChannelOptions = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES };
      const creds = grpc.credentials.createInsecure(); // a unix socket: the kubelet speaks plaintext gRPC on it too
      const channel = new grpc.Channel(t.target, creds, options);
      const c: Connection = {
        grpc,
        channel,
        runtime: new RuntimeService(t.target, creds, { channelOverride: channel }),
        image: new ImageService(t.target, creds, { channelOverride: channel }),
      };
      if (closed) channel.close(); // closed while loading
      connection = c;
      return c;
    })();
    // A bad socket string or a failed load is not cached: the next call reports it again.
    connecting.catch(() => (connecting = undefined));
    return connecting;
  };

  async function unary<T>(service: 'runtime' | 'image', method: string, req: object, call: { timeoutMs: number; signal?: AbortSignal; image?: string }): Promise<T> {
    const fullMethod = `${service === 'runtime' ? 'RuntimeService' : 'ImageService'}/${method}`;
    const ctx = { method: fullMethod, socket, timeoutMs: call.timeoutMs, ...(call.image !== undefined ? { image: call.image } : {}) };
    const { signal } = call;
    if (signal?.aborted) throw signal.reason;
    const conn = await connect();
    if (signal?.aborted) throw signal.reason;
    if (closed) throw CRI_ERROR_TABLE.create('CALL_FAILED', `the CRI client for ${socket} is closed`, { transient: false });
    const client = conn[service] as unknown as Record<string, UnaryMethod>;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        handle.cancel();
        reject(signal!.reason);
      };
      const handle = client[method]!.call(conn[service], req, new conn.grpc.Metadata(), { deadline: Date.now() + call.timeoutMs }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        if (err) reject(criErrorFrom(err, ctx));
        else resolve(res as T);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  return {
    async version(): Promise<CriVersion> {
      const r = await unary<CriVersion>('runtime', 'Version', { version: 'v1' }, { timeoutMs: callTimeoutMs });
      return { runtimeName: r.runtimeName, runtimeVersion: r.runtimeVersion, runtimeApiVersion: r.runtimeApiVersion };
    },

    async pullImage(image: string, o: PullOptions = {}): Promise<string> {
      const ref = tryParseReference(image);
      if (ref instanceof Error) throw ref;
      const req = { image: { image }, ...(o.auth ? { auth: toAuthConfig(o.auth) } : {}) };
      const r = await unary<{ imageRef: string }>('image', 'PullImage', req, { timeoutMs: o.timeoutMs ?? pullTimeoutMs, image, ...(o.signal ? { signal: o.signal } : {}) });
      return r.imageRef;
    },

    async imageStatus(image: string, o: { signal?: AbortSignal } = {}): Promise<CriImage | undefined> {
      const r = await unary<{ image: WireImage | null }>('image', 'ImageStatus', { image: { image }, verbose: false }, { timeoutMs: callTimeoutMs, image, ...(o.signal ? { signal: o.signal } : {}) });
      return r.image && r.image.id ? toImage(r.image) : undefined;
    },

    async listImages(o: { image?: string } = {}): Promise<CriImage[]> {
      const req = o.image ? { filter: { image: { image: o.image } } } : {};
      const r = await unary<{ images: WireImage[] }>('image', 'ListImages', req, { timeoutMs: callTimeoutMs });
      return r.images.map(toImage);
    },

    close(): void {
      closed = true;
      connection?.channel.close();
    },
  };
}
