/**
 * An image archive into a node's containerd, the steps `ctr images import`
 * and its unpack take, through containerd's own API:
 *
 *   open + plan (the registry importer's hardened reader and planners)
 *   -> lease (so nothing is collected while half done)
 *   -> content (blobs, then manifests with gc labels)
 *   -> unpack the node's platform (snapshots by chain ID)
 *   -> label config (snapshot ref) and layers (uncompressed digest)
 *   -> image records (created last: never one pointing at missing content)
 *   -> lease removed (the image record and labels now hold everything).
 */
import { randomBytes } from 'node:crypto';
import { isFerryError, type FerryError } from '../errors.js';
import { detectFormat, importCode, openArchive, planDocker, planOci, type Archive, type Plan } from '../archive/index.js';
import { asContainerdFailure, GRPC, grpcCode, type ContainerdApi, type ImageRecord } from './api.js';
import { containerdError, isContainerdError } from './errors.js';
import { CRI_MANAGED, GC_EXPIRE, GC_REF_SNAPSHOT, LABEL_UNCOMPRESSED, missingLabels } from './gc-labels.js';
import { nodeManifest } from './node-manifest.js';
import type { Platform } from './platform.js';
import { unpackLayers } from './unpack.js';
import { writeContent } from './write-content.js';

export interface ImportedNodeImage {
  name: string;
  digest: string;
  mediaType: string;
  /** content bytes written this time (0 when all blobs were already there) */
  bytes: number;
  unpacked: boolean;
}

export interface ImportTarget {
  api: ContainerdApi;
  snapshotter: string;
  platform: Platform;
}

/** How long containerd keeps an abandoned import's lease (a crashed agent leaves it behind). */
const LEASE_TTL_MS = 60 * 60 * 1000;

/** An archive reader's error (FERRY_ERR_IMPORT_*) as BAD_ARCHIVE, keeping its code, message and transient flag. */
function archiveFailure(e: unknown): FerryError {
  if (isContainerdError(e)) return e;
  if (isFerryError(e)) {
    if (e.code === importCode('ABORTED')) return containerdError('ABORTED', e.message, { cause: e });
    return containerdError('BAD_ARCHIVE', `${e.code}: ${e.message}`, { cause: e, transient: e.transient, details: { importCode: e.code } });
  }
  return containerdError('BAD_ARCHIVE', e instanceof Error ? e.message : String(e), { cause: e, transient: true });
}

async function plan(archive: Archive, path: string): Promise<Plan> {
  return detectFormat(archive) === 'docker-archive' ? planDocker(archive, path) : planOci(archive, path);
}

/** Creates or repoints the record `name` at `target`, labelled as the CRI plugin's. */
async function putImage(api: ContainerdApi, name: string, target: ImageRecord['target'], signal?: AbortSignal): Promise<void> {
  const want: ImageRecord = { name, labels: { [CRI_MANAGED.key]: CRI_MANAGED.value }, target };
  const have = await api.imageGet(name, signal);
  if (have) {
    if (have.target.digest === target.digest && have.target.mediaType === target.mediaType && have.labels[CRI_MANAGED.key] === CRI_MANAGED.value) return;
    await api.imageUpdate(want, ['target', `labels.${CRI_MANAGED.key}`], signal);
    return;
  }
  try {
    await api.imageCreate(want, signal);
  } catch (e) {
    if (grpcCode(e) !== GRPC.ALREADY_EXISTS) throw e;
    await api.imageUpdate(want, ['target', `labels.${CRI_MANAGED.key}`], signal);
  }
}

export async function importArchiveInto(to: ImportTarget, path: string, signal?: AbortSignal): Promise<ImportedNodeImage[]> {
  const { snapshotter, platform } = to;
  let archive: Archive;
  let p: Plan;
  try {
    archive = await openArchive(path, signal);
  } catch (e) {
    throw archiveFailure(e);
  }
  try {
    try {
      p = await plan(archive, path);
    } catch (e) {
      throw archiveFailure(e);
    }
    const leaseId = `ferry-import-${randomBytes(8).toString('hex')}`;
    await to.api.leaseCreate(leaseId, { [GC_EXPIRE]: new Date(Date.now() + LEASE_TTL_MS).toISOString() }, signal).catch((e) => {
      throw asContainerdFailure(e, 'IMPORT_FAILED', 'create lease', to.api.socket);
    });
    const api = to.api.withLease(leaseId);
    try {
      const content = await writeContent(api, archive, p, signal).catch((e) => {
        throw isFerryError(e) && !isContainerdError(e) ? archiveFailure(e) : asContainerdFailure(e, 'IMPORT_FAILED', 'write content', api.socket);
      });

      // unpack each distinct image for this node, then the labels that keep the snapshots
      const unpacked = new Map<string, boolean>();
      for (const [i, top] of content.tops.entries()) {
        if (unpacked.has(top.digest)) continue;
        const m = await nodeManifest(archive, p, i, top, platform).catch((e) => {
          throw isContainerdError(e) ? e : archiveFailure(e);
        });
        if (!m) {
          unpacked.set(top.digest, false);
          continue;
        }
        const u = await unpackLayers(api, snapshotter, m.layers, m.diffIds, signal);
        const label = (digest: string, labels: Record<string, string>) =>
          api
            .contentInfo(digest, signal)
            .then((info) => api.contentAddLabels(digest, missingLabels(info?.labels, labels), signal))
            .catch((e) => {
              throw asContainerdFailure(e, 'UNPACK_FAILED', `label ${digest}`, api.socket);
            });
        await label(m.config.digest, { [`${GC_REF_SNAPSHOT}.${snapshotter}`]: u.top });
        for (const [j, l] of m.layers.entries()) await label(l.digest, { [LABEL_UNCOMPRESSED]: m.diffIds[j]! });
        unpacked.set(top.digest, true);
      }

      const out: ImportedNodeImage[] = [];
      for (const [i, img] of p.images.entries()) {
        const top = content.tops[i]!;
        let bytes = content.written.get(top.digest) ?? 0;
        for (const b of img.blobs) bytes += content.written.get(b.key) ?? 0;
        for (const c of img.children) bytes += content.written.get(c.digest) ?? 0;
        for (const n of img.names) {
          await putImage(api, n.ref, { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length }, signal).catch((e) => {
            throw asContainerdFailure(e, 'IMPORT_FAILED', `image record ${n.ref}`, api.socket);
          });
          out.push({ name: n.ref, digest: top.digest, mediaType: top.mediaType, bytes, unpacked: unpacked.get(top.digest) ?? false });
        }
      }
      return out;
    } finally {
      // the image records and gc labels hold what was imported; a failed import's leftovers go with the lease
      await to.api.leaseDelete(leaseId).catch(() => undefined);
    }
  } catch (e) {
    if (signal?.aborted && !isContainerdError(e, 'ABORTED')) throw containerdError('ABORTED', 'import cancelled', { cause: e });
    throw e;
  } finally {
    await archive.close();
  }
}
