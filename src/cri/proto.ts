/**
 * The CRI services as grpc-js client constructors, loaded on first use:
 * importing @grpc/grpc-js and @grpc/proto-loader costs about 120-160 ms of
 * start-up (measured on Node 20), which no role but the agent should pay, so
 * nothing here runs at module load. proto/cri/runtime-v1.proto is read from
 * the repository root, two folders up from this module both as
 * src/cri/proto.ts (tsx) and as dist/cri/proto.js.
 */
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';

export const CRI_PROTO_FILE = fileURLToPath(new URL('../../proto/cri/runtime-v1.proto', import.meta.url));

export type GrpcModule = typeof Grpc;
export type ClientConstructor = new (target: string, creds: Grpc.ChannelCredentials, options?: Grpc.ClientOptions) => Grpc.Client;

/**
 * grpc-js and the package the `.proto` `files` declare, read the way both of
 * ferry's gRPC clients (CRI and containerd) read messages: longs as Number
 * (sizes are bytes, far below 2^53), enums as strings, absent fields as their
 * defaults ('' / 0 / [] / {}).
 */
export async function loadGrpcPackage(files: string | string[], includeDirs: string[] = []): Promise<{ grpc: GrpcModule; pkg: unknown }> {
  const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  const definition = await loader.load(files, { includeDirs, keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  return { grpc, pkg: grpc.loadPackageDefinition(definition) };
}

/** `load`, run once per process; a failed load (a .proto missing from an install) is retried next time. */
export function loadedOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((e) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}

export interface CriServices {
  grpc: GrpcModule;
  RuntimeService: ClientConstructor;
  ImageService: ClientConstructor;
}

/** The CRI services, loaded once per process. */
export const criServices = loadedOnce(async (): Promise<CriServices> => {
  const { grpc, pkg } = await loadGrpcPackage(CRI_PROTO_FILE);
  const v1 = (pkg as { runtime: { v1: Record<'RuntimeService' | 'ImageService', ClientConstructor> } }).runtime.v1;
  return { grpc, RuntimeService: v1.RuntimeService, ImageService: v1.ImageService };
});
