/**
 * One image's layers into the snapshotter, what containerd's unpacker does on
 * pull: for each layer, the snapshot named by its chain ID is reused when it
 * exists; else a fresh active snapshot is prepared on top of the parent, the
 * diff service applies the layer blob (already in the content store) to its
 * mounts, and it is committed under the chain ID. The diff service reports the
 * uncompressed digest it applied, which must be the config's diffID.
 */
import { randomBytes } from 'node:crypto';
import { asContainerdFailure, GRPC, grpcCode, type ContainerdApi, type Descriptor } from './api.js';
import { chainIds } from './chain-id.js';
import { containerdError } from './errors.js';

export interface UnpackResult {
  /** Chain ID of the top layer: the snapshot the config's gc label points at. */
  top: string;
  /** Layers applied now (0 when every snapshot existed). */
  applied: number;
}

export async function unpackLayers(api: ContainerdApi, snapshotter: string, layers: Descriptor[], diffIds: string[], signal?: AbortSignal): Promise<UnpackResult> {
  if (layers.length !== diffIds.length) {
    throw containerdError('UNPACK_FAILED', `the image config lists ${diffIds.length} diff_ids for ${layers.length} layers`, { transient: false });
  }
  if (layers.length === 0) throw containerdError('UNPACK_FAILED', 'the image has no layers', { transient: false });
  const chain = chainIds(diffIds);
  const fail = (e: unknown, what: string) => asContainerdFailure(e, 'UNPACK_FAILED', what, api.socket);
  let applied = 0;
  for (let i = 0; i < layers.length; i++) {
    const name = chain[i]!;
    const parent = i === 0 ? '' : chain[i - 1]!;
    const have = await api.snapshotStat(snapshotter, name, signal).catch((e) => {
      throw fail(e, `stat snapshot ${name}`);
    });
    if (have) continue;
    const key = `ferry-extract-${randomBytes(6).toString('hex')} ${name}`;
    const mounts = await api.snapshotPrepare(snapshotter, key, parent, signal).catch((e) => {
      throw fail(e, `prepare snapshot for layer ${i} (${layers[i]!.digest})`);
    });
    let committed = false;
    try {
      const out = await api.diffApply(layers[i]!, mounts, signal).catch((e) => {
        throw fail(e, `apply layer ${i} (${layers[i]!.digest}, ${layers[i]!.mediaType})`);
      });
      if (out.digest !== diffIds[i]) {
        throw containerdError('DIGEST_MISMATCH', `layer ${i} (${layers[i]!.digest}) unpacks to ${out.digest}, the config's diff_ids[${i}] says ${diffIds[i]}`);
      }
      try {
        await api.snapshotCommit(snapshotter, name, key, signal);
        committed = true;
      } catch (e) {
        // another unpack of the same layer stack committed first: its snapshot is as good as ours
        if (grpcCode(e) !== GRPC.ALREADY_EXISTS) throw fail(e, `commit snapshot ${name}`);
      }
      applied++;
    } finally {
      if (!committed) await api.snapshotRemove(snapshotter, key).catch(() => undefined);
    }
  }
  return { top: chain[chain.length - 1]!, applied };
}
