/**
 * Cron schedules (`watch[].schedule`): the one place ferry reads them.
 *
 * BullMQ runs the watch schedules (job schedulers) and computes every next
 * tick with its own cron-parser dependency, 4.9.0. ferry validates with what
 * runs rather than running with what validates: package.json pins
 * cron-parser to that same version, so npm keeps one copy that both use. A
 * repeatStrategy running a newer cron-parser inside BullMQ would have to be
 * given to every Queue and Worker on the queue (a replica without it would
 * compute other ticks, and BullMQ's job ids per tick depend on them) and
 * re-implement BullMQ's startDate/tz handling. cron-parser 5 accepted
 * schedules 4.9 refuses (`H` hashes, `@annually`, `@minutely`), which then
 * failed only when the scheduler was upserted. test/config/cron.test.ts
 * checks that BullMQ and this module share the copy and agree on next runs:
 * when a BullMQ upgrade brings another cron-parser, move the pin with it.
 */
import { createRequire } from 'node:module';

// Loaded on first use (cron-parser brings luxon: ~15-20 ms): a process that
// never computes a tick, such as `ferry copy` with the default schedules
// (see load.ts), never loads it. Synchronous because nextCronRun is; the
// package is CommonJS, so require loads what `import` would.
const requireHere = createRequire(import.meta.url);
let cronParser: typeof import('cron-parser') | undefined;

/** The first time `schedule` fires after `from`. Throws (with cron-parser's message) on a schedule BullMQ could not run. */
export function nextCronRun(schedule: string, from: Date | number = Date.now()): Date {
  // cron-parser 4 reads a blank schedule as "every minute"; a blank `schedule` is a mistake, and was refused before.
  if (schedule.trim() === '') throw new Error('the schedule is blank');
  cronParser ??= requireHere('cron-parser') as typeof import('cron-parser');
  return cronParser.parseExpression(schedule, { currentDate: new Date(from) }).next().toDate();
}
