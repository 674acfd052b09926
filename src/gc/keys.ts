/** Every Redis key src/gc writes, under `${queue.prefix}:gc`. */
import { gcReportKey } from './types.js';

export function gcKeys(prefix: string) {
  return {
    /** string: JSON GcReport of the last run (GET /api/gc). */
    report: gcReportKey(prefix),
    /** hash `<mirror repo>@<digest>` -> JSON SupersededDigest: old digests drift refresh moved a tag away from. */
    superseded: `${prefix}:gc:superseded`,
    /** string: ms when GC first found a live in-use index; "never seen" is counted from no earlier than this. */
    trackedSince: `${prefix}:gc:tracked-since`,
  };
}
