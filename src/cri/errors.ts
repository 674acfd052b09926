/**
 * The CRI client's error table (`FERRY_ERR_CRI_<WHAT>`): what the node's
 * container runtime (containerd, k3s, CRI-O) answered, or why it could not be
 * asked. grpc-status.ts maps a gRPC status onto these kinds; a PULL_FAILED
 * carries the runtime's own message and a hint for its case (not found,
 * unauthorized, TLS, ...), see pull-failure.ts.
 */
import { defineErrors } from '../errors.js';

/** Where the socket usually is: named in hints, so an operator can find the right hostPath. */
export const TYPICAL_CRI_SOCKETS =
  'containerd /run/containerd/containerd.sock, k3s/RKE2 /run/k3s/containerd/containerd.sock, CRI-O /var/run/crio/crio.sock';

export const CRI_ERROR_TABLE = defineErrors('CRI', {
  UNREACHABLE: {
    meaning: "the node's container runtime socket (`agent.criSocket`) cannot be reached: it does not exist, permission is denied, or nothing listens on it",
    hint: `set agent.criSocket to the node runtime's socket (${TYPICAL_CRI_SOCKETS}); the agent DaemonSet must mount that path from the host (hostPath) and run as a user allowed to open it (root)`,
    status: 503,
    transient: true,
  },
  UNIMPLEMENTED: {
    meaning: 'the runtime answers but does not serve CRI `runtime.v1` (containerd older than 1.6, or its CRI plugin disabled)',
    hint: 'use containerd >= 1.6 or CRI-O >= 1.20 (what Kubernetes >= 1.26 needs anyway) with the CRI plugin enabled: no "cri" or "io.containerd.grpc.v1.cri" in `disabled_plugins` of /etc/containerd/config.toml; check agent.criSocket names the CRI socket, not another gRPC service',
    status: 501,
  },
  PULL_FAILED: {
    meaning: 'the runtime could not pull the image; the message is the runtime\'s own (not found, unauthorized, TLS, registry unreachable, no space)',
    hint: "read the runtime's message; `crictl pull <image>` on the node shows the same error",
    status: 502,
    transient: true,
  },
  TIMEOUT: {
    meaning: 'the runtime did not answer within the call deadline (10 s for status and list calls, 30 minutes for a pull unless configured otherwise)',
    hint: 'the runtime is overloaded or stuck (see its log: journalctl -u containerd); a large image on a slow link may need a longer pull timeout',
    status: 504,
    transient: true,
  },
  CALL_FAILED: {
    meaning: 'the runtime answered a status, list or version call with an error',
    hint: "read the runtime's message; its log (journalctl -u containerd, or crio) says more",
    status: 502,
    transient: true,
  },
});

export const CRI_ERROR_CODES = CRI_ERROR_TABLE.codes;
export type CriErrorKind = keyof typeof CRI_ERROR_CODES;
