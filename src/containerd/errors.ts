/**
 * Error codes of imports into a node's containerd (`FERRY_ERR_CONTAINERD_<WHAT>`),
 * docs/agent-import.md. A bad archive is permanent until the file changes; a
 * containerd that is down or refuses a write may work on the next try.
 */
import { defineErrors, type FerryError } from '../errors.js';

export const CONTAINERD_ERROR_TABLE = defineErrors('CONTAINERD', {
  UNREACHABLE: {
    meaning: "containerd's socket could not be reached (missing, refused, not a unix socket, or no answer in time)",
    hint: 'check that containerd runs on this node and that its socket (agent.criSocket, typically /run/containerd/containerd.sock; k3s: /run/k3s/containerd/containerd.sock) is mounted into the agent',
    status: 503,
    transient: true,
  },
  BAD_ARCHIVE: {
    meaning: 'the image archive cannot be read: not an archive, damaged, unsafe entries, unknown format (details.importCode has the IMPORT area code giving the reason)',
    hint: 'export the image again with `docker save` or `skopeo copy ... docker-archive:|oci-archive:` (plain, gzip or zstd), under a temporary name renamed into place when done',
    status: 422,
  },
  DIGEST_MISMATCH: {
    meaning: 'a blob or layer of the archive does not hash to the digest or diffID the archive says',
    hint: 'the archive is damaged; export the image again',
    status: 422,
  },
  IMPORT_FAILED: {
    meaning: 'containerd refused writing content, a label or the image record (disk full, permissions, ...)',
    hint: "see containerd's log on the node; the import is tried again",
    status: 502,
    transient: true,
  },
  UNPACK_FAILED: {
    meaning: 'applying a layer into the snapshotter failed, or the image config lacks what unpacking needs (rootfs.diff_ids); no image record was written',
    hint: "check the snapshotter (agent import snapshotter, overlayfs by default) and containerd's log on the node",
    status: 502,
    transient: true,
  },
  ABORTED: {
    meaning: 'the import was cancelled (shutdown)',
    hint: 'the import runs again at the next start',
    status: 503,
    transient: true,
  },
});

export const CONTAINERD_ERROR_CODES = CONTAINERD_ERROR_TABLE.codes;
export type ContainerdErrorKind = keyof typeof CONTAINERD_ERROR_TABLE.specs;

export function containerdError(kind: ContainerdErrorKind, message: string, opts: { cause?: unknown; transient?: boolean; hint?: string; details?: Record<string, unknown> } = {}): FerryError {
  return CONTAINERD_ERROR_TABLE.create(kind, message, opts);
}

export function isContainerdError(e: unknown, kind?: ContainerdErrorKind): e is FerryError {
  return CONTAINERD_ERROR_TABLE.is(e, kind);
}
