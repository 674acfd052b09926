/**
 * A failed CRI call (a gRPC status) as the FerryError an operator can act
 * on. Pure: no I/O, and no import of grpc-js (the status codes are the
 * standard gRPC numbers), so it loads and tests without the library.
 */
import type { FerryError } from '../errors.js';
import { CRI_ERROR_TABLE, TYPICAL_CRI_SOCKETS } from './errors.js';
import { classifyPullFailure, type PullFailureReason } from './pull-failure.js';

/** The gRPC status codes this module tells apart (grpc/status.h numbering). */
export const GRPC_STATUS = {
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** What grpc-js rejects a call with (its ServiceError), reduced to what is read here. */
export interface GrpcFailure {
  code?: number;
  /** The status message, without grpc-js's "<code> <NAME>: " prefix. */
  details?: string;
  message?: string;
}

export interface CallContext {
  /** The CRI method, e.g. `ImageService/PullImage`. */
  method: string;
  /** The socket as configured (for messages). */
  socket: string;
  /** The image the call was about, if any. */
  image?: string;
  /** The deadline the call had, ms. */
  timeoutMs: number;
}

/** Why a unix socket could not be opened, from node's errno in grpc-js's "Last error" text. */
function unreachableHint(text: string, socket: string): string {
  const base = CRI_ERROR_TABLE.specs.UNREACHABLE.hint;
  if (/ENOENT/.test(text)) return `${socket} does not exist in the agent's container: ${base}`;
  if (/EACCES|EPERM/.test(text)) return `permission denied on ${socket}: the agent must run as root (or a user the socket's group admits); ${base}`;
  if (/ECONNREFUSED/.test(text)) return `nothing listens on ${socket}: is the runtime running on this node (systemctl status containerd)? Typical sockets: ${TYPICAL_CRI_SOCKETS}`;
  return base;
}

/** How grpc-js words a channel that could not connect or lost its connection. */
const SOCKET_FAILURE = /No connection established|connect E[A-Z]+|ECONNRESET|EPIPE|Connection dropped/;

/** A pull failure whose message names no case is read by its code. */
const CODE_REASON: Partial<Record<number, PullFailureReason>> = {
  [GRPC_STATUS.NOT_FOUND]: 'not-found',
  [GRPC_STATUS.PERMISSION_DENIED]: 'unauthorized',
  [GRPC_STATUS.UNAUTHENTICATED]: 'unauthorized',
};

const seconds = (ms: number): string => (ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

const isGrpcFailure = (e: unknown): e is GrpcFailure => typeof e === 'object' && e !== null && typeof (e as GrpcFailure).code === 'number';

/** The FerryError for a failed call; a pull's runtime error becomes PULL_FAILED with the hint of its case. */
export function criErrorFrom(e: unknown, ctx: CallContext): FerryError {
  const what = ctx.image ? `${ctx.method} ${ctx.image}` : ctx.method;
  if (!isGrpcFailure(e)) {
    return CRI_ERROR_TABLE.create('CALL_FAILED', `CRI ${what} on ${ctx.socket} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  // grpc-js appends an empty "Resolution note: " to connection failures
  const text = (e.details || e.message || '').replace(/\.?\s*Resolution note:\s*$/, '').trim();
  const details = { method: ctx.method, socket: ctx.socket, grpcCode: e.code, ...(ctx.image ? { image: ctx.image } : {}) };
  const opts = { cause: e, details };
  const isPull = ctx.method.endsWith('/PullImage');
  switch (e.code) {
    case GRPC_STATUS.UNAVAILABLE:
      // A runtime may say UNAVAILABLE about the registry a pull went to: only grpc-js's own connection failure is the socket's.
      if (isPull && !SOCKET_FAILURE.test(text)) break;
      return CRI_ERROR_TABLE.create('UNREACHABLE', `cannot reach the container runtime at ${ctx.socket}: ${text}`, { ...opts, hint: unreachableHint(text, ctx.socket) });
    case GRPC_STATUS.UNIMPLEMENTED:
      return CRI_ERROR_TABLE.create('UNIMPLEMENTED', `the runtime at ${ctx.socket} does not serve CRI runtime.v1 ${ctx.method}: ${text}`, opts);
    case GRPC_STATUS.DEADLINE_EXCEEDED:
      return CRI_ERROR_TABLE.create('TIMEOUT', `CRI ${what} on ${ctx.socket}: no answer within ${seconds(ctx.timeoutMs)}`, opts);
  }
  if (isPull) {
    const c = classifyPullFailure(text, e.code === undefined ? undefined : CODE_REASON[e.code]);
    return CRI_ERROR_TABLE.create('PULL_FAILED', `the runtime could not pull ${ctx.image ?? 'the image'}: ${text}`, {
      ...opts,
      hint: c.hint,
      transient: c.transient,
      details: { ...details, reason: c.reason },
    });
  }
  return CRI_ERROR_TABLE.create('CALL_FAILED', `CRI ${what} on ${ctx.socket} failed: ${text}`, opts);
}
