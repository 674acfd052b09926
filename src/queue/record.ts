/** The image record: one per normalized upstream reference (SPEC "Image states"). */
import type { ImageState } from '../image-state/index.js';

export { IMAGE_STATES, isAvailable, type ImageState, type ImageView } from '../image-state/index.js';

export type ImageSource = 'admission' | 'api' | 'watch' | 'import' | 'agent';

export interface ImageRecord {
  ref: string;
  mirrorRef: string;
  state: ImageState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** ISO time of the next automatic attempt while `retrying`. */
  nextAttemptAt: string | null;
  /** Manifest digest in the mirror (of the last successful copy). */
  digest: string | null;
  /** The upstream manifest digest of that copy (differs from `digest` when an index was filtered). */
  sourceDigest?: string | null;
  bytesTotal: number;
  bytesDone: number;
  /** Referrers (signatures, SBOMs, attestations) the last copy pushed to the mirror (0: none new, or `copy.referrers` off). */
  referrers?: number;
  updatedAt: string;
  createdAt: string;
  source: ImageSource;
  /** Set once any copy succeeded: the mirror holds *a* version even while a re-copy runs. */
  mirroredAt: string | null;
  blockedReason: string | null;
  /** Drift refresh saw the upstream tag move away from what the mirror held (ISO time of the last such move). */
  driftedAt?: string | null;
  /**
   * Tenant isolation (SPEC "Trust model"): `public` when the upstream answers
   * anonymously, `private` when the copy needed credentials; null = unknown
   * (not copied yet, or copied before ferry checked).
   */
  access?: 'public' | 'private' | null;
  /**
   * `verify:` (SPEC "Supply chain"): the upstream cosign signature of the last
   * copy's source digest: verified by a configured key, present but failing
   * (unverified), or absent (unsigned); null = no verify rule matches.
   */
  signature?: 'verified' | 'unverified' | 'unsigned' | null;
  /** For a `private` image: namespaces whose own pull secret was verified for it, comma-joined, sorted. */
  grantedNamespaces?: string | null;
  /** Set by the tarball importer: the file an image came from, and a note such as a derived name. */
  importFile?: string;
  importNote?: string;
}

const NUMERIC = new Set(['attempts', 'maxAttempts', 'bytesTotal', 'bytesDone', 'referrers']);
const NULLABLE = new Set(['lastError', 'nextAttemptAt', 'digest', 'sourceDigest', 'mirroredAt', 'blockedReason', 'driftedAt', 'access', 'grantedNamespaces', 'signature']);

/** Redis hash (all strings, '' = null) -> record. */
export function decodeRecord(h: Record<string, string>): ImageRecord | undefined {
  if (!h.ref || !h.state) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (NUMERIC.has(k)) out[k] = Number(v) || 0;
    else if (NULLABLE.has(k)) out[k] = v === '' ? null : v;
    else out[k] = v;
  }
  for (const k of NULLABLE) if (!(k in out)) out[k] = null;
  for (const k of NUMERIC) if (!(k in out)) out[k] = 0;
  return out as unknown as ImageRecord;
}

/** Partial record -> flat field/value list for HSET ('' for null). */
export function encodeFields(patch: Partial<ImageRecord>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out.push(k, v === null ? '' : String(v));
  }
  return out;
}

/** Published on `<prefix>:events` for every change; the dashboard's SSE relays these. */
export type ImageEvent =
  | { type: 'state'; ref: string; record: ImageRecord }
  | { type: 'progress'; ref: string; bytesDone: number; bytesTotal: number; updatedAt: string }
  | { type: 'removed'; ref: string };
