import { FerryError, isFerryError } from '../errors.js';
import { codeOf, splitRef, type RegistryEngine } from '../registry/index.js';

export interface MirrorDeleteResult {
  /** The manifest was deleted now (false: it was not there). */
  deleted: boolean;
  mirrorRef: string;
  digest: string | null;
}

/**
 * Deletes the manifest of `mirrorRef` from the mirror registry through the
 * process's registry engine (its credentials, token cache, retries and
 * request limits): `DELETE /v2/<name>/manifests/<digest>`, after resolving
 * the tag when no digest is known. The registry drops the tags that point to
 * it; blobs stay until its garbage collection runs. A registry with deletes
 * disabled becomes FERRY_ERR_REGISTRY_DELETE_DISABLED with HTTP 409 for the
 * API caller, and the record is kept.
 */
export async function deleteFromMirror(engine: Pick<RegistryEngine, 'resolveDigest' | 'deleteManifest'>, mirrorRef: string, knownDigest: string | null): Promise<MirrorDeleteResult> {
  const r = splitRef(mirrorRef);
  try {
    const digest = knownDigest ?? r.digest ?? (await engine.resolveDigest(mirrorRef))?.digest ?? null;
    if (!digest) return { deleted: false, mirrorRef, digest: null };
    const deleted = await engine.deleteManifest(`${r.host}/${r.repository}`, digest);
    return { deleted, mirrorRef, digest };
  } catch (e) {
    if (isFerryError(e) && e.code === codeOf('DELETE_DISABLED')) {
      throw new FerryError(e.code, `the mirror registry ${r.host} has deletes disabled: ${mirrorRef} was not deleted and its record was kept`, {
        status: 409,
        ...(e.hint ? { hint: `${e.hint}, or remove the record without ?fromMirror=true` } : {}),
        details: { ...e.details, mirrorRef },
      });
    }
    throw e;
  }
}
