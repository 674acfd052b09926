/**
 * `connectContainerd`: the importer bound to one containerd socket,
 * namespace and snapshotter. The gRPC services load on first use; the first
 * call of each import checks the socket answers (UNREACHABLE within 3 s
 * instead of hanging on a missing socket).
 */
import { stat } from 'node:fs/promises';
import { describeError } from '../errors.js';
import { ContainerdApi } from './api.js';
import { asContainerdFailure } from './api.js';
import { containerdError } from './errors.js';
import { importArchiveInto, type ImportedNodeImage } from './import-archive.js';
import { hostPlatform, parsePlatform } from './platform.js';
import { containerdTarget } from './socket-target.js';

export interface ContainerdImages {
  /** Imports every named image of a docker-archive or OCI archive (plain, gzip or zstd) into the namespace, unpacked into the snapshotter for this node's platform. */
  importArchive(path: string, opts?: { signal?: AbortSignal }): Promise<ImportedNodeImage[]>;
  getImage(name: string): Promise<{ name: string; digest: string } | undefined>;
  close(): void;
}

const READY_MS = 3000;

/** socket: unix path or unix:// URL. platform default: linux/<this arch>. */
export function connectContainerd(socket: string, opts: { namespace: string; snapshotter: string; platform?: string }): ContainerdImages {
  const target = containerdTarget(socket);
  const platformText = opts.platform ?? hostPlatform();
  const platform = parsePlatform(platformText);
  let opened: Promise<ContainerdApi> | undefined;
  let closed = false;
  const api = async (): Promise<ContainerdApi> => {
    if ('code' in target) throw target;
    if (closed) throw containerdError('ABORTED', 'containerd client closed');
    // a missing socket fails now, not after the connect timeout
    const st = await stat(target.path).catch(() => undefined);
    if (!st?.isSocket()) throw containerdError('UNREACHABLE', `no containerd socket at ${target.path}${st ? ' (not a socket)' : ''}`);
    opened ??= ContainerdApi.open(socket, target.target, opts.namespace).catch((e) => {
      opened = undefined;
      throw containerdError('UNREACHABLE', `cannot load containerd's API: ${describeError(e)}`, { cause: e, transient: false });
    });
    const a = await opened;
    await a.ready(READY_MS).catch((e) => {
      throw containerdError('UNREACHABLE', `containerd at ${target.path} does not answer (${describeError(e)})`, { cause: e });
    });
    return a;
  };
  return {
    async importArchive(path, o = {}) {
      if (!platform) throw containerdError('UNPACK_FAILED', `platform ${JSON.stringify(platformText)} is not os/architecture[/variant]`, { transient: false });
      return importArchiveInto({ api: await api(), snapshotter: opts.snapshotter, platform }, path, o.signal);
    },
    async getImage(name) {
      const a = await api();
      const img = await a.imageGet(name).catch((e) => {
        throw asContainerdFailure(e, 'IMPORT_FAILED', `get image ${name}`, socket);
      });
      return img ? { name: img.name, digest: img.target.digest } : undefined;
    },
    close() {
      closed = true;
      void opened?.then((a) => a.close(), () => undefined);
    },
  };
}
