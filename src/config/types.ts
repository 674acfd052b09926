export type RewriteMode = 'off' | 'mirrored' | 'always' | 'enforce';
export const REWRITE_MODES: readonly RewriteMode[] = ['off', 'mirrored', 'always', 'enforce'];
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export const PULL_POLICIES: readonly PullPolicy[] = ['Always', 'IfNotPresent', 'Never'];

export interface MirrorConfig {
  /** host[:port] of the mirror registry. */
  registry: string;
  /** Plain HTTP / unverified TLS to the mirror. */
  insecure: boolean;
  /** Optional path inside the mirror under which every upstream lands. */
  prefix: string;
}

export interface RewriteConfig {
  mode: RewriteMode;
  /** Rewrite to `mirror/...@sha256:` once the digest is known. */
  pinDigest: boolean;
  /** Globs over normalized references (`docker.io/library/nginx:1.27`). */
  include: string[];
  exclude: string[];
  /** Namespace name -> mode. */
  namespaces: Record<string, RewriteMode>;
}

export interface PullPolicyConfig {
  default: PullPolicy;
  /** Operator config beats pod and namespace annotations. */
  force: boolean;
  /** Honour `ferry.io/pull-policy` annotations. */
  allowOverride: boolean;
  namespaces: Record<string, PullPolicy>;
}

export interface BlockRule {
  pattern?: string;
  digest?: string;
  reason: string;
}

export interface RegistryConfig {
  /** Base URL, e.g. https://registry-1.docker.io. Default: https://<host>. */
  endpoint?: string;
  /** docker config.json with `auths`. */
  credentialsFile?: string;
  username?: string;
  password?: string;
  insecure?: boolean;
  /** A fixed request rate for this registry (token bucket), on top of the adaptive gate. */
  requestsPerSecond?: number;
  /**
   * The pull budget ferry keeps for this registry: at most `count` manifest
   * GETs per `windowSeconds` (HEADs and blobs do not count, as on Docker
   * Hub). Docker Hub's default is its published limit (100 per 6 h
   * anonymous, 200 with credentials); `count: 0` turns ferry's own count off.
   * The registry's live `ratelimit-*` headers always win over it.
   */
  pullLimit?: PullLimit;
  /**
   * Copies may use the `imagePullSecrets` of the pod that asked (read
   * through the Kubernetes API, cached, never logged). Needs `secrets get`.
   */
  credentialsFromPods?: boolean;
  /**
   * Namespaces (globs) the operator shares this host's private images with:
   * their pods are rewritten to ferry's copy whoever's credentials made it.
   * Other namespaces get a private image only once their own pull secret
   * was verified for it.
   */
  shareWith?: string[];
}

export interface PullLimit {
  /** Pulls per window; default: Docker Hub's published number (docker.io), else no count of ferry's own. 0: none. */
  count?: number;
  /** Default 21600 (6 h, Docker Hub's window). */
  windowSeconds?: number;
}

export interface QueueConfig {
  redisUrl: string;
  /** Key prefix for every Redis key ferry writes (BullMQ prefix too). */
  prefix: string;
  concurrency: number;
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number };
  /**
   * A copy job's lock in Redis, renewed every lockMs/2 while the copy runs. A
   * worker that dies (SIGKILL, node lost) holds its jobs until the lock lapses;
   * another worker's stalled check (every lockMs/2) then takes them over.
   */
  lockMs: number;
}

export interface CopyConfig {
  /** `os/arch[/variant]`; empty = every platform (the index is kept byte-identical). */
  platforms: string[];
  layerConcurrency: number;
  /** A fixed request rate for every upstream (token bucket) on top of each host's adaptive gate; 0 = the gate alone. */
  requestsPerSecond: number;
  timeoutMs: number;
  /** Copy what points at each mirrored digest too: OCI referrers (API or fallback tag) and cosign's `.sig`/`.att`/`.sbom` tags. */
  referrers: boolean;
  /** Only referrers of these artifact types (cosign tags count by their content); [] = all. */
  referrerArtifactTypes: string[];
  /**
   * How an index filtered by `platforms` reaches the mirror (SPEC "Supply
   * chain"): full = every child, the upstream digest kept; sparse = the
   * upstream index bytes with only the wanted children, where the mirror
   * accepts that (else full); strip = a filtered index under a new digest;
   * auto = sparse where accepted, else strip for tags and full for digest
   * references.
   */
  platformMode: PlatformMode;
}

export type PlatformMode = 'auto' | 'full' | 'sparse' | 'strip';

export type VerifyMode = 'enforce' | 'warn';

export interface VerifyRule {
  /** Glob over normalized upstream references, as in `rewrite.include`. */
  pattern: string;
  /** PEM public keys (ECDSA P-256, RSA, Ed25519); a signature by any one of them counts. */
  keys: string[];
  /** enforce: unsigned or wrongly signed images are not mirrored and pods naming them are denied; warn: mirrored and flagged. */
  mode: VerifyMode;
}

export type WatchStrategy = 'digest' | 'semver' | 'newest' | 'alphabetical';

export interface WatchConfig {
  /** Stable id; default derived from image + tag/constraint. */
  id?: string;
  image: string;
  /** For `digest`: the tag to follow (default: the image's tag, else latest). */
  tag?: string;
  strategy: WatchStrategy;
  constraint?: string;
  prerelease?: boolean;
  allowTags?: string;
  ignoreTags?: string[];
  schedule: string;
  keep?: number;
  cacheBy?: 'tag' | 'digest';
  /** A mirror tag (in the watched image's mirror repository) moved to the selected digest once that digest is mirrored. */
  alias?: string;
}

export interface ImportConfig {
  dir: string;
  /** How long size+mtime must stay unchanged before a file is imported. */
  stableMs: number;
}

/** One image the agent keeps on matching nodes (SPEC "Node agent"). */
export interface PrepullImage {
  /** The image as pods name it (upstream form, e.g. `nginx:1.27`); the agent pulls its mirror reference. */
  image: string;
  /** Only nodes whose labels include all of these (omitted: every node). */
  nodeSelector?: Record<string, string>;
}

export interface AgentConfig {
  /** The node's CRI socket (containerd, k3s, CRI-O): the same path on every node. unix path or unix:// URL. */
  criSocket: string;
  /** containerd's own API socket, for imports (""= criSocket; containerd serves both on one socket). */
  containerdSocket: string;
  /** containerd namespace imports land in (the kubelet's is k8s.io). */
  namespace: string;
  /** Snapshotter imports are unpacked into (the CRI plugin's, usually overlayfs). */
  snapshotter: string;
  prepull: PrepullImage[];
  /** Pre-pulls the agent asks the runtime for at once. */
  pullConcurrency: number;
  /** Also pre-pull every image the cluster's pods run (the in-use index; needs the pod watch somewhere in the cluster). */
  prepullInUse: boolean;
  /** Also pre-pull the images the cluster's Deployments, StatefulSets and DaemonSets name (indexed by the watch role; src/workloads). */
  prepullWorkloads: boolean;
  /** Folder whose image tarballs are imported into the node's containerd ("" = off). */
  importDir: string;
  /** How long size+mtime must stay unchanged before a dropped file is imported. */
  stableMs: number;
  /** JSON file recording imported files (path, size, mtime, images) across restarts ("" = <importDir>/.ferry-agent-state.json). */
  stateFile: string;
  /** Taint key the agent removes from its node once every pre-pull image is present ("" = none). */
  startupTaint: string;
  /** Pre-pull retry backoff (doubling, jittered, capped). */
  backoff: { initialMs: number; maxMs: number };
  /** How often the agent re-checks its list against the runtime and re-publishes its node state. */
  resyncMs: number;
}

export interface WebhookConfig {
  port: number;
  host: string;
  certFile: string;
  keyFile: string;
  failClosed: boolean;
  bodyLimit: number;
  /** Max admissions buffered for enqueue while Redis is unreachable. */
  bufferLimit: number;
}

export interface DashboardConfig {
  port: number;
  host: string;
  token: string;
}

export type NotifyEvent = 'tagMoved' | 'drifted' | 'mirrored' | 'error';

/** One receiver of CloudEvents (docs/notify.md). */
export interface NotifyTarget {
  /** http(s) URL the events are POSTed to. */
  url: string;
  /** Which events this receiver gets; omitted = all four. */
  events?: NotifyEvent[];
  /** When set, every delivery carries `X-Ferry-Signature-256: sha256=<HMAC-SHA256 of the body>`. */
  secret?: string;
}

export interface HooksConfig {
  /** Bearer token `POST /hooks/registry` requires when set (else the dashboard guard applies). */
  secret: string;
}

/** Go-style duration: `720h`, `90m`, `1h30m`, `45s`, `500ms`, `7d`. */
export type Duration = string;

export interface GcConfig {
  /** Remove mirrored images no pod used for `unusedFor` (needs the pod watch). */
  enabled: boolean;
  unusedFor: Duration;
  schedule: string;
  /** Report what would be removed (GET /api/gc) without deleting anything. */
  dryRun: boolean;
  /** Retention and GC never delete a digest a pod ran within this window. */
  keepUnusedFor: Duration;
}

export interface RefreshConfig {
  /** Cron; "" turns drift refresh off. */
  schedule: string;
  /** Only tags some pod runs now (false: every mirrored tag record). */
  inUseOnly: boolean;
  /** Manifest HEADs per registry host per run; the rest wait for the next run (least recently checked first). */
  maxRequestsPerRegistry: number;
}

export interface KubernetesConfig {
  /** auto: watch namespaces when a kubeconfig / in-cluster account exists. */
  namespaceInformer: 'auto' | 'off';
  /** auto: watch pods (in-use index, GC, refresh, Events) when a kubeconfig / in-cluster account exists. */
  podInformer: 'auto' | 'off';
  /** Write FerryRewrote / FerryDenied / FerryBlockedImageInUse Events. */
  events: boolean;
  /** auto: the watch role reconciles ImageWatch resources (imagewatches.ferry.io) when a kubeconfig / in-cluster account exists. */
  imageWatches: 'auto' | 'off';
}

export interface FerryConfig {
  mirror: MirrorConfig;
  rewrite: RewriteConfig;
  pullPolicy: PullPolicyConfig;
  block: BlockRule[];
  verify: VerifyRule[];
  registries: Record<string, RegistryConfig>;
  queue: QueueConfig;
  copy: CopyConfig;
  watch: WatchConfig[];
  import: ImportConfig;
  agent: AgentConfig;
  webhook: WebhookConfig;
  dashboard: DashboardConfig;
  hooks: HooksConfig;
  notify: NotifyTarget[];
  gc: GcConfig;
  refresh: RefreshConfig;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  kubernetes: KubernetesConfig;
}
