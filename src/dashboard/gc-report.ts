/**
 * `GET /api/gc`: the last garbage-collection report, as the GC run left it
 * in Redis (src/gc), next to the settings it runs with, so the page can tell
 * "GC is off" from "GC has not run yet".
 */
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../config/index.js';
import { FerryError } from '../errors.js';
import { gcReportKey, type GcReport } from '../gc/index.js';
import { DASHBOARD_ERROR_CODES as C } from './errors.js';
import { within } from './usage.js';

export interface GcAnswer {
  /** The last run's report; null until a run finished (or after its key was removed). */
  report: GcReport | null;
  /** The `gc:` settings in force now (the report says what the run used). */
  gc: Pick<FerryConfig['gc'], 'enabled' | 'dryRun' | 'schedule' | 'unusedFor' | 'keepUnusedFor'>;
}

export async function readGcAnswer(redis: Redis, config: FerryConfig, timeoutMs = 1500): Promise<GcAnswer> {
  const raw = await within(redis.get(gcReportKey(config.queue.prefix)), timeoutMs, 'GC report');
  let report: GcReport | null = null;
  if (raw !== null) {
    try {
      report = JSON.parse(raw) as GcReport;
    } catch (e) {
      throw new FerryError(C.INTERNAL, `the GC report at ${gcReportKey(config.queue.prefix)} is not valid JSON: ${(e as Error).message}`, {
        status: 500,
        hint: 'the next GC run rewrites it; delete the key to clear it meanwhile',
      });
    }
  }
  const { enabled, dryRun, schedule, unusedFor, keepUnusedFor } = config.gc;
  return { report, gc: { enabled, dryRun, schedule, unusedFor, keepUnusedFor } };
}
