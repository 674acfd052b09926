import fastJsonPatch from 'fast-json-patch';
import { StatusError } from './errors.js';

/** How a PATCH body is applied, from its Content-Type. */
export type PatchKind = 'merge' | 'json';

const JSON_PATCH = 'application/json-patch+json';

/**
 * The patch kind a Content-Type names: json-patch, or a merge patch (merge-patch, strategic-merge-patch
 * and apply-patch are all applied as RFC 7386 merge patches). Anything else is 415, as on the real server.
 */
export function patchKindOf(contentType: string): PatchKind {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  if (ct === JSON_PATCH) return 'json';
  if (/^application\/(merge-patch|strategic-merge-patch)\+json$|^application\/apply-patch\+(yaml|json)$/.test(ct)) return 'merge';
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
}

/** Applies `patch` to a copy of `doc`; a bad patch or a failed `test` op is 422 Invalid, as on the real server. */
export function applyPatch(kind: PatchKind, doc: unknown, patch: unknown): unknown {
  if (kind === 'merge') {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new StatusError(400, 'BadRequest', 'a merge patch must be a JSON object');
    }
    return mergePatch(doc, patch);
  }
  if (!Array.isArray(patch)) throw new StatusError(400, 'BadRequest', 'a json patch must be a JSON array of operations');
  try {
    return fastJsonPatch.applyPatch(structuredClone(doc), patch as fastJsonPatch.Operation[], true, true, true).newDocument;
  } catch (err) {
    const e = err as { name?: string; message?: string; index?: number };
    const what = e.name === 'TEST_OPERATION_FAILED' ? 'test operation failed' : (e.message ?? String(err)).split('\n')[0];
    throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: jsonpatch operation ${e.index ?? '?'}: ${what}`);
  }
}

/** RFC 7386 merge patch (used for strategic-merge patches too: lists are replaced, not merged by key). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$retainKeys')) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
