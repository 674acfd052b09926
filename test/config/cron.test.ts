import t from 'tap';
import { createRequire } from 'node:module';
import { defaultRepeatStrategy } from 'bullmq';
import { nextCronRun, resolveConfig } from '../../src/config/index.js';
import { FerryError } from '../../src/errors.js';

// BullMQ computes a job scheduler's ticks with defaultRepeatStrategy (ferry sets no repeatStrategy).
const bullmqNext = (pattern: string, from: number) => defaultRepeatStrategy(from, { pattern });

const cronProblems = (schedule: string): string[] => {
  try {
    resolveConfig({ watch: [{ image: 'docker.io/library/nginx', strategy: 'digest', schedule }] });
    return [];
  } catch (e) {
    if (e instanceof FerryError) return ((e.details?.problems as string[]) ?? []).filter((p) => p.startsWith('watch.0.schedule'));
    throw e;
  }
};

t.test('ferry and BullMQ load one cron-parser: what validates a schedule is what runs it', async (t) => {
  const here = createRequire(import.meta.url);
  const fromBullmq = createRequire(here.resolve('bullmq'));
  t.equal(fromBullmq.resolve('cron-parser'), here.resolve('cron-parser'), 'bullmq resolves the cron-parser ferry pins (package.json), not a copy of its own');
});

t.test('a schedule ferry accepts gets the next runs BullMQ computes', async (t) => {
  const schedules = [
    '*/15 * * * *', // the documented example
    '0 */2 * * *',
    '5-10/2 * * * *', // a range with a step
    '30 9 * * MON-FRI', // day names, a range of them
    '0 0 * * mon', // lower-case name
    '0 12 * jan,feb *', // month names
    '0 0 1,15 * 1', // day of month OR day of week
    '0 0 * * 7', // Sunday as 7
    '0 0 L * *', // last day of the month
    '0 0 * * 5L', // last Friday
    '0 0 * * 1#2', // second Monday
    '0 0 ? * MON',
    '@daily',
    '@weekly',
    '*/20 * * * * *', // 6 fields: seconds first
    '0 0 12 * * 1-5',
    '0 0 29 2 *', // leap days only
  ];
  const froms = [Date.UTC(2025, 2, 10, 10, 7, 13), Date.UTC(2024, 11, 31, 23, 59, 59, 500), Date.UTC(2026, 1, 28, 12, 0, 0)];
  for (const s of schedules) {
    t.same(cronProblems(s), [], `accepted: ${s}`);
    for (const from of froms) {
      const ours = nextCronRun(s, from).getTime();
      t.equal(ours, bullmqNext(s, from), `${s} from ${new Date(from).toISOString()}: ${new Date(ours).toISOString()}`);
      t.ok(ours > from);
    }
  }
});

t.test('a schedule BullMQ cannot run is refused when the config (or an API watch) is validated', async (t) => {
  // cron-parser 5 (what ferry validated with before) accepted `H` hashes and these aliases; BullMQ's 4.9 refuses
  // them, so such a watch passed validation and then failed when its scheduler was upserted.
  for (const s of ['H * * * *', 'H/5 * * * *', '@annually', '@minutely', '@secondly']) {
    t.match(cronProblems(s), [/^watch\.0\.schedule: invalid cron/], `refused: ${s}`);
    t.throws(() => bullmqNext(s, Date.now()), `BullMQ refuses it too: ${s}`);
  }
  for (const s of ['60 * * * *', '0 0 * * 8', '10-5 * * * *', '0 0 31 2 *', '*/0 * * * *', '* * * * * * *', 'every day']) {
    t.match(cronProblems(s), [/^watch\.0\.schedule: invalid cron/], `refused: ${s}`);
  }
  // BullMQ would read a blank pattern as "every minute": ferry refuses it, as it always did.
  t.match(cronProblems(' '), [/^watch\.0\.schedule: invalid cron " ": the schedule is blank/]);
});
