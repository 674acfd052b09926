/**
 * containerd's socket as a grpc-js target: a unix path
 * (`/run/containerd/containerd.sock`) or a unix:// URL. Pure: no I/O.
 */
import { isAbsolute, resolve } from 'node:path';
import type { FerryError } from '../errors.js';
import { containerdError } from './errors.js';

export function containerdTarget(socket: string): { target: string; path: string } | FerryError {
  const s = socket.trim();
  let path: string;
  if (/^unix:\/\//i.test(s)) path = s.slice('unix://'.length);
  else if (/^unix:/i.test(s)) path = s.slice('unix:'.length);
  else if (s === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    return containerdError('UNREACHABLE', `containerd socket ${JSON.stringify(socket)} is not a unix socket`, {
      transient: false,
      hint: "give containerd's unix socket path or unix:// URL, e.g. /run/containerd/containerd.sock",
    });
  } else path = s;
  if (!isAbsolute(path)) path = resolve(path);
  return { target: `unix://${path}`, path };
}
