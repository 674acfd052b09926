import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig, LoadedConfig } from '../config/index.js';
import type { ImageStore, Producer, RecordFeed, StateView } from '../queue/index.js';
import type { RegistryEngine } from '../registry/index.js';
import type { Readiness, ReadinessCheck } from '../observability/index.js';
import type { KubeClient } from '../kube/index.js';

/**
 * What the composition root hands every role (webhook, worker, dashboard,
 * watch, import). Roles never read env or files for config themselves: they
 * read `config()` each time (hot reload swaps it) and subscribe to changes.
 */
export interface RoleContext {
  /** The config in force now. */
  config(): FerryConfig;
  onConfigChange(listener: (next: FerryConfig, prev: FerryConfig) => void): void;
  loaded: LoadedConfig;
  logger: Logger;
  /** A new ioredis connection to queue.redisUrl (closed by the root at shutdown). BullMQ Workers need their own. */
  redis(name: string): Redis;
  /** Shared connection for ordinary commands. */
  connection: Redis;
  store: ImageStore;
  producer: Producer;
  /**
   * The process's one in-memory copy of every image record, kept current over
   * pub/sub (created on first use, closed by the root; `start()` it to load).
   * The webhook's StateView and the dashboard both read it.
   */
  records(): RecordFeed;
  /** The webhook's view of image states over `records()`, loaded. */
  stateView(): Promise<StateView>;
  /**
   * The process's one registry engine (created on first use, reconfigured on
   * reload, closed by the root): roles share its token cache, connection
   * pools and its knowledge of which mirror repositories hold a blob (mounts).
   */
  registry(): RegistryEngine;
  /** `mirror.registry/prefix/host/path:tag` for a normalized upstream ref. */
  mirrorRefOf(ref: string): string;
  /**
   * The process's Kubernetes API client (client-node loaded on first call),
   * or undefined when no kubeconfig / in-cluster account is configured.
   */
  kube(): Promise<KubeClient | undefined>;
  /** The shared plain-HTTP app on dashboard.port: roles add routes before it listens. */
  http: FastifyInstance;
  addReadiness(name: string, check: ReadinessCheck): void;
  /** Every readiness check of this process (Redis, config, and what roles added): /readyz on each server. */
  readiness: Readiness;
}

export interface Role {
  name: string;
  /** Finish or hand back in-flight work, release resources. */
  close(): Promise<void>;
}

export type StartRole = (ctx: RoleContext) => Promise<Role>;
