/**
 * The manifest of an imported image that this node runs: the image's own
 * manifest when its config is for the node's platform, or the index child for
 * it (indexes nested a few levels deep are followed). Reads only the small
 * JSON the archive already held in pass 1.
 */
import type { Archive, ManifestSpec, Plan } from '../archive/index.js';
import type { Descriptor } from './api.js';
import { containerdError } from './errors.js';
import { platformMatches, type Platform } from './platform.js';

export interface NodeManifest {
  manifest: ManifestSpec;
  config: { digest: string; json: Record<string, unknown> };
  layers: Descriptor[];
  diffIds: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function desc(v: unknown): Descriptor | undefined {
  if (!isRecord(v) || typeof v.digest !== 'string' || typeof v.size !== 'number') return undefined;
  return { mediaType: typeof v.mediaType === 'string' ? v.mediaType : '', digest: v.digest, size: v.size };
}

/** undefined when the image has nothing for this platform (it is imported, not unpacked). */
export async function nodeManifest(
  archive: Archive,
  plan: Plan,
  imageIndex: number,
  top: ManifestSpec,
  platform: Platform,
): Promise<NodeManifest | undefined> {
  const img = plan.images[imageIndex]!;
  const manifests = new Map<string, ManifestSpec>([[top.digest, top], ...img.children.map((c) => [c.digest, c] as const)]);
  const configBytes = async (digest: string): Promise<Buffer | undefined> => {
    for (const b of img.blobs) {
      if (b.digest !== digest) continue;
      if (b.bytes) return b.bytes;
      if (b.entry) return archive.readSmall(b.entry, `config ${digest}`);
    }
    return undefined;
  };
  let spec = top;
  for (let depth = 0; depth < 5; depth++) {
    const json = JSON.parse(spec.bytes.toString('utf8')) as unknown;
    if (!isRecord(json)) return undefined;
    if (Array.isArray(json.manifests)) {
      const child = json.manifests.find((m) => isRecord(m) && isRecord(m.platform) && platformMatches(platform, m.platform));
      const d = desc(child);
      const next = d && manifests.get(d.digest);
      if (!next) return undefined;
      spec = next;
      continue;
    }
    const cfg = desc(json.config);
    if (!cfg) return undefined;
    const bytes = await configBytes(cfg.digest);
    if (!bytes) return undefined;
    let config: unknown;
    try {
      config = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw containerdError('UNPACK_FAILED', `config ${cfg.digest} is not JSON`, { transient: false });
    }
    if (!isRecord(config)) throw containerdError('UNPACK_FAILED', `config ${cfg.digest} is not a JSON object`, { transient: false });
    // the image's own manifest (no index): unpacked only when built for this platform, as `ctr images import` does
    if (spec === top && !platformMatches(platform, config)) return undefined;
    const rootfs = isRecord(config.rootfs) ? config.rootfs : undefined;
    const diffIds = Array.isArray(rootfs?.diff_ids) ? rootfs.diff_ids.filter((x): x is string => typeof x === 'string') : [];
    if (diffIds.length === 0) throw containerdError('UNPACK_FAILED', `config ${cfg.digest} has no rootfs.diff_ids`, { transient: false });
    const layers = (Array.isArray(json.layers) ? json.layers : []).map(desc);
    if (layers.some((l) => !l)) throw containerdError('UNPACK_FAILED', `manifest ${spec.digest} has a layer that is not a descriptor`, { transient: false });
    return { manifest: spec, config: { digest: cfg.digest, json: config }, layers: layers as Descriptor[], diffIds };
  }
  return undefined;
}
