/** Which kind of image archive a tar is, from what sits at its root. */
import type { Archive } from './archive.js';
import { importError } from './errors.js';
import type { ArchiveFormat } from './plan.js';

export function detectFormat(archive: Archive): ArchiveFormat {
  const idx = archive.index;
  const oci = idx.has('index.json');
  const docker = idx.has('manifest.json');
  // docker >= 25 `docker save` writes both: the OCI side keeps digests, so it wins
  if (oci && (idx.has('oci-layout') || !docker)) return 'oci-archive';
  if (docker) return 'docker-archive';
  throw importError('UNKNOWN_FORMAT', 'tar has neither manifest.json (docker-archive) nor index.json + oci-layout (oci-archive) at its root');
}
