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
type ClientConstructor = new (target: string, creds: Grpc.ChannelCredentials, options?: Grpc.ClientOptions) => Grpc.Client;

export interface CriServices {
  grpc: GrpcModule;
  RuntimeService: ClientConstructor;
  ImageService: ClientConstructor;
}

let loading: Promise<CriServices> | undefined;

async function load(): Promise<CriServices> {
  const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  // longs as Number: sizes are bytes, far below 2^53; defaults: absent fields read as '' / 0 / [].
  const definition = await loader.load(CRI_PROTO_FILE, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { runtime: { v1: Record<'RuntimeService' | 'ImageService', ClientConstructor> } };
  return { grpc, RuntimeService: pkg.runtime.v1.RuntimeService, ImageService: pkg.runtime.v1.ImageService };
}

/** The services, loaded once per process; a failed load (the .proto missing from an install) is retried next time. */
export function criServices(): Promise<CriServices> {
  loading ??= load().catch((e) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
