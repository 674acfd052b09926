/**
 * `agent.criSocket` as a grpc-js target. The socket is a unix path
 * (`/run/containerd/containerd.sock`) or a unix:// URL, as crictl's
 * `--runtime-endpoint` takes it; grpc-js dials `unix:///abs/path`.
 * Pure: no I/O.
 */
import { isAbsolute, resolve } from 'node:path';
import type { FerryError } from '../errors.js';
import { CRI_ERROR_TABLE, TYPICAL_CRI_SOCKETS } from './errors.js';

/** A node runtime's socket (CRI or containerd's own API) as a grpc-js target; undefined when it is not a unix socket. */
export function unixSocketTarget(socket: string): { target: string; path: string } | undefined {
  const s = socket.trim();
  let path: string;
  if (/^unix:\/\//i.test(s)) path = s.slice('unix://'.length);
  else if (/^unix:/i.test(s)) path = s.slice('unix:'.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s === '') return undefined;
  else path = s;
  if (!isAbsolute(path)) path = resolve(path);
  return { target: `unix://${path}`, path };
}

/** The grpc-js target for `socket`, or the error saying why it is not a unix socket. */
export function criTarget(socket: string): { target: string; path: string } | FerryError {
  return (
    unixSocketTarget(socket) ??
    CRI_ERROR_TABLE.create('UNREACHABLE', `agent.criSocket ${JSON.stringify(socket)} is not a unix socket`, {
      hint: `set agent.criSocket to the runtime's unix socket path or unix:// URL (${TYPICAL_CRI_SOCKETS})`,
      transient: false,
    })
  );
}
