/**
 * Why a runtime's pull failed, read from its message. containerd and CRI-O
 * answer every pull failure with one gRPC code (UNKNOWN, sometimes NOT_FOUND)
 * and a message that quotes the registry's answer, so the case is found by
 * the words they use ("not found", "401 Unauthorized", "x509: ...").
 * Pure: no I/O.
 */

export type PullFailureReason = 'not-found' | 'unauthorized' | 'tls' | 'registry-unreachable' | 'no-space' | 'platform' | 'other';

export interface PullFailureCase {
  reason: PullFailureReason;
  hint: string;
  /** May the same pull succeed later without anyone changing anything? */
  transient: boolean;
}

const CASES: readonly (PullFailureCase & { when: RegExp })[] = [
  {
    reason: 'unauthorized',
    when: /\b401\b|\b403\b|unauthori[sz]ed|authorization failed|authentication required|access denied|denied:|forbidden|insufficient_scope/i,
    hint: "the registry refused the pull: give ferry the host's credentials (registries.<host>.username/password or credentialsFile; the agent sends them to the runtime as the kubelet would) or configure them in the node runtime's registry config",
    transient: false,
  },
  {
    reason: 'tls',
    when: /x509|certificate|tls:|http: server gave HTTP response to HTTPS client/i,
    hint: "the runtime cannot talk TLS to the registry: trust its CA on the node, or declare the host in the runtime's registry config (containerd: /etc/containerd/certs.d/<host>/hosts.toml, k3s: /etc/rancher/k3s/registries.yaml)",
    transient: false,
  },
  {
    reason: 'no-space',
    when: /no space left on device|disk quota exceeded/i,
    hint: "the node's image filesystem is full: free space (crictl rmi --prune) or let the kubelet's image GC run",
    transient: true,
  },
  {
    reason: 'platform',
    when: /no match for platform|does not match the specified platform|no matching manifest/i,
    hint: "the image has no variant for this node's OS/architecture: mirror it with that platform (copy.platforms) or pick an image that has it",
    transient: false,
  },
  {
    reason: 'not-found',
    when: /not found|manifest unknown|name unknown|no such image|does not exist/i,
    hint: 'the registry has no such image or tag: check the reference, and that the mirror has the image (GET /api/images shows what ferry copied)',
    transient: false,
  },
  {
    reason: 'registry-unreachable',
    when: /connection refused|no such host|i\/o timeout|network is unreachable|connection reset|dial tcp|EOF|TLS handshake timeout|context deadline exceeded/i,
    hint: 'the node cannot reach the registry: check DNS, routes and network policies from the node to the registry host (and any mirror endpoint in the runtime config)',
    transient: true,
  },
];

const OTHER: PullFailureCase = {
  reason: 'other',
  hint: "read the runtime's message; `crictl pull <image>` on the node shows the same error and the runtime's log (journalctl -u containerd) says more",
  transient: true,
};

/**
 * The case of a pull failure message, first match wins: the specific
 * cases come before "not found", which containerd appends to many of them
 * ("no match for platform in manifest: not found"); `fallback` is the case when the
 * message names none (the gRPC code may: NOT_FOUND, UNAUTHENTICATED).
 */
export function classifyPullFailure(message: string, fallback?: PullFailureReason): PullFailureCase {
  const hit = CASES.find((c) => c.when.test(message)) ?? CASES.find((c) => c.reason === fallback);
  return hit ? { reason: hit.reason, hint: hit.hint, transient: hit.transient } : OTHER;
}
