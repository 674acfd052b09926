/**
 * What the worker needs from the copy engine (src/registry, RegistryEngine).
 * Kept as a local structural interface so the processor takes any engine —
 * the real one in production, a fake in unit tests.
 */
import type { FerryConfig } from '../config/index.js';

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface CopyRequest {
  src: string;
  dst: string;
  platforms?: string[];
  signal?: AbortSignal;
  onProgress?(p: CopyProgress): void;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  bytesTotal: number;
  bytesCopied: number;
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  upToDate: boolean;
  platforms?: unknown;
}

export interface CopyEngine {
  copy(req: CopyRequest): Promise<CopyResult>;
  updateConfig?(config: FerryConfig): void;
  close?(): Promise<void> | void;
}
