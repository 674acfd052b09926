/** What the CRI image client answers and takes: plain data, no gRPC types. */

export interface CriImage {
  /** The image ID (containerd: the config digest, `sha256:…`). */
  id: string;
  /** Names the runtime knows it by (`host/repo:tag`). */
  repoTags: string[];
  /** `host/repo@sha256:…`: the digest the registry served (of the index, for a multi-platform image). */
  repoDigests: string[];
  /** Bytes on the node (containerd: the unpacked snapshot size as the kubelet sees it). */
  size: number;
}

/** CRI `AuthConfig`: the credentials a pull is made with, as the kubelet sends them. */
export interface CriAuth {
  username?: string;
  password?: string;
  /** base64("user:password"). */
  auth?: string;
  /** An OAuth2 refresh token; send it without username (containerd prefers a username when both are set). */
  identityToken?: string;
  registryToken?: string;
  /**
   * The registry host these credentials are for (`host[:port]` or
   * `https://host[:port]`): containerd then offers them to an endpoint of
   * that host only, not to a mirror endpoint of the node's hosts.toml.
   * Unset (as the kubelet sends it): to every endpoint of the pull.
   */
  serverAddress?: string;
}

export interface CriVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface PullOptions {
  auth?: CriAuth;
  signal?: AbortSignal;
  /** Deadline of this pull (default: the client's pullTimeoutMs, 30 minutes). */
  timeoutMs?: number;
}

export interface CriImageService {
  version(): Promise<CriVersion>;
  /** Pulls through the runtime; resolves to the image ref the runtime returns. */
  pullImage(image: string, opts?: PullOptions): Promise<string>;
  /** undefined when the runtime does not have it. */
  imageStatus(image: string, opts?: { signal?: AbortSignal }): Promise<CriImage | undefined>;
  listImages(opts?: { image?: string }): Promise<CriImage[]>;
  close(): void;
}

export interface ConnectOptions {
  /** Deadline of every call but pulls. @defaultValue 10_000 */
  callTimeoutMs?: number;
  /** Deadline of a pull unless the call gives its own. @defaultValue 1_800_000 (30 minutes) */
  pullTimeoutMs?: number;
}
