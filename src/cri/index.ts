/**
 * The node runtime's CRI image service (containerd, k3s, CRI-O) for the
 * agent: public face. client.ts holds the calls, grpc-status.ts and
 * pull-failure.ts turn a failed call into a FerryError, auth.ts the
 * credentials a pull carries; proto/cri/runtime-v1.proto declares the wire.
 * docs/agent-cri.md describes it for operators.
 */
export type { CriImage, CriAuth, CriVersion, CriImageService, PullOptions, ConnectOptions } from './types.js';
export { connectCri, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_PULL_TIMEOUT_MS } from './client.js';
export { criAuthFor } from './auth.js';
export { criErrorFrom, GRPC_STATUS, type GrpcFailure, type CallContext } from './grpc-status.js';
export { classifyPullFailure, type PullFailureReason, type PullFailureCase } from './pull-failure.js';
export { CRI_ERROR_TABLE, CRI_ERROR_CODES, TYPICAL_CRI_SOCKETS, type CriErrorKind } from './errors.js';
export { unixSocketTarget } from './socket-target.js';
export { loadGrpcPackage, loadedOnce, type ClientConstructor, type GrpcModule } from './proto.js';
