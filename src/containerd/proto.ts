/**
 * containerd's services as grpc-js client constructors, loaded on first use
 * (grpc-js + proto-loader cost ~150 ms of start-up no other role should pay).
 * proto/containerd/*.proto are read from the repository root, two folders up
 * from this module both as src/containerd/proto.ts (tsx) and as
 * dist/containerd/proto.js.
 */
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';

export const CONTAINERD_PROTO_DIR = fileURLToPath(new URL('../../proto/containerd/', import.meta.url));
const FILES = ['content.proto', 'images.proto', 'leases.proto', 'snapshots.proto', 'diff.proto'];

export type GrpcModule = typeof Grpc;
export type ClientConstructor = new (target: string, creds: Grpc.ChannelCredentials, options?: Grpc.ClientOptions) => Grpc.Client;

export interface ContainerdServices {
  grpc: GrpcModule;
  Content: ClientConstructor;
  Images: ClientConstructor;
  Leases: ClientConstructor;
  Snapshots: ClientConstructor;
  Diff: ClientConstructor;
}

let loading: Promise<ContainerdServices> | undefined;

async function load(): Promise<ContainerdServices> {
  const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  // longs as Number: sizes are bytes, far below 2^53; defaults: absent fields read as '' / 0 / [] / {}.
  const definition = await loader.load(FILES, { includeDirs: [CONTAINERD_PROTO_DIR], keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    containerd: { services: Record<'content' | 'images' | 'leases' | 'snapshots' | 'diff', { v1: Record<string, ClientConstructor> }> };
  };
  const s = pkg.containerd.services;
  return { grpc, Content: s.content.v1.Content!, Images: s.images.v1.Images!, Leases: s.leases.v1.Leases!, Snapshots: s.snapshots.v1.Snapshots!, Diff: s.diff.v1.Diff! };
}

/** The services, loaded once per process; a failed load (the .proto files missing from an install) is retried next time. */
export function containerdServices(): Promise<ContainerdServices> {
  loading ??= load().catch((e) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
