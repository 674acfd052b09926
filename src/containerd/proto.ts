/**
 * containerd's services as grpc-js client constructors, loaded on first use
 * (grpc-js + proto-loader cost ~150 ms of start-up no other role should pay).
 * proto/containerd/*.proto are read from the repository root, two folders up
 * from this module both as src/containerd/proto.ts (tsx) and as
 * dist/containerd/proto.js.
 */
import { fileURLToPath } from 'node:url';
import { loadGrpcPackage, loadedOnce, type ClientConstructor, type GrpcModule } from '../cri/index.js';

export const CONTAINERD_PROTO_DIR = fileURLToPath(new URL('../../proto/containerd/', import.meta.url));
const FILES = ['content.proto', 'images.proto', 'leases.proto', 'snapshots.proto', 'diff.proto'];

export interface ContainerdServices {
  grpc: GrpcModule;
  Content: ClientConstructor;
  Images: ClientConstructor;
  Leases: ClientConstructor;
  Snapshots: ClientConstructor;
  Diff: ClientConstructor;
}

/** containerd's services, loaded once per process. */
export const containerdServices = loadedOnce(async (): Promise<ContainerdServices> => {
  const { grpc, pkg } = await loadGrpcPackage(FILES, [CONTAINERD_PROTO_DIR]);
  const s = (pkg as { containerd: { services: Record<'content' | 'images' | 'leases' | 'snapshots' | 'diff', { v1: Record<string, ClientConstructor> }> } }).containerd.services;
  return { grpc, Content: s.content.v1.Content!, Images: s.images.v1.Images!, Leases: s.leases.v1.Leases!, Snapshots: s.snapshots.v1.Snapshots!, Diff: s.diff.v1.Diff! };
});
