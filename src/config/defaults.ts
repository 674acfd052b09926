import type { FerryConfig } from './types.js';

/**
 * The one place where ferry's defaults live (bullmq's habit: defaults spread
 * once, then user options). The schema in schema.ts describes the same shape.
 */
export const DEFAULTS: FerryConfig = {
  mirror: { registry: '127.0.0.1:5000', insecure: true, prefix: '' },
  rewrite: { mode: 'mirrored', pinDigest: false, include: ['**'], exclude: [], namespaces: { 'kube-system': 'off' } },
  pullPolicy: { default: 'IfNotPresent', force: false, allowOverride: true, namespaces: {} },
  block: [],
  verify: [],
  registries: {},
  queue: {
    redisUrl: 'redis://127.0.0.1:6379',
    prefix: 'ferry',
    concurrency: 8,
    maxAttempts: 8,
    backoff: { initialMs: 1000, maxMs: 600_000 },
    lockMs: 30_000,
  },
  copy: { platforms: ['linux/amd64', 'linux/arm64'], layerConcurrency: 4, requestsPerSecond: 0, timeoutMs: 30_000, referrers: true, referrerArtifactTypes: [], platformMode: 'auto' },
  watch: [],
  import: { dir: './images', stableMs: 1000 },
  agent: {
    criSocket: '/run/containerd/containerd.sock',
    containerdSocket: '',
    namespace: 'k8s.io',
    snapshotter: 'overlayfs',
    prepull: [],
    pullConcurrency: 4,
    prepullInUse: false,
    prepullWorkloads: false,
    importDir: '/var/lib/ferry/images',
    stableMs: 1000,
    stateFile: '',
    startupTaint: '',
    backoff: { initialMs: 1000, maxMs: 600_000 },
    resyncMs: 60_000,
  },
  webhook: { port: 8443, host: '0.0.0.0', certFile: '', keyFile: '', failClosed: false, bodyLimit: 3 * 1024 * 1024, bufferLimit: 10_000 },
  dashboard: { port: 8080, host: '127.0.0.1', token: '' },
  hooks: { secret: '' },
  notify: [],
  gc: { enabled: false, unusedFor: '720h', schedule: '0 3 * * *', dryRun: true, keepUnusedFor: '168h' },
  refresh: { schedule: '*/30 * * * *', inUseOnly: true, maxRequestsPerRegistry: 100 },
  log: { level: 'info' },
  kubernetes: { namespaceInformer: 'auto', podInformer: 'auto', events: true, imageWatches: 'auto' },
};
