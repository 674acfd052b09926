/**
 * containerd's socket as a grpc-js target: a unix path
 * (`/run/containerd/containerd.sock`) or a unix:// URL. Pure: no I/O.
 */
import type { FerryError } from '../errors.js';
import { unixSocketTarget } from '../cri/index.js';
import { containerdError } from './errors.js';

export function containerdTarget(socket: string): { target: string; path: string } | FerryError {
  return (
    unixSocketTarget(socket) ??
    containerdError('UNREACHABLE', `containerd socket ${JSON.stringify(socket)} is not a unix socket`, {
      transient: false,
      hint: "give containerd's unix socket path or unix:// URL, e.g. /run/containerd/containerd.sock",
    })
  );
}
