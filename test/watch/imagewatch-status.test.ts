// What an ImageWatch's status says after polls, and when ferry writes it again.
import t from 'tap';
import { buildStatus, invalidStatus, LAST_POLL_REFRESH_MS, statusChanged } from '../../src/watch/image-watch-status.js';
import { EMPTY_STATUS, type HeldEntry, type WatchStatus } from '../../src/watch/state.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const polled = (o: Partial<WatchStatus>): WatchStatus => ({ ...EMPTY_STATUS, polls: 1, lastPollAt: at(0).toISOString(), lastResult: 'initial', ...o });
const held = (tag: string, digest: string, seq: number, deletedAt: string | null = null): HeldEntry => ({ tag, digest, seq, ref: `r/x:${tag}`, heldSince: at(seq).toISOString(), lastSeenAt: at(seq).toISOString(), deletedAt });

t.test('a successful poll: Ready with the selection, held newest first without deleted ones', async (t) => {
  const s = buildStatus({ generation: 3, previous: undefined, watch: polled({ selected: { tag: '1.1.0', digest: D2, since: '' } }), held: [held('1.0.0', D1, 1), held('1.1.0', D2, 2), held('0.9.0', D1, 0, at(5).toISOString())], schedule: '@daily', now: at(10) });
  t.match(s, { selected: { tag: '1.1.0', digest: D2 }, observedGeneration: 3, lastPollAt: at(0).toISOString() });
  t.same(s.held, [
    { tag: '1.1.0', digest: D2, mirroredAt: at(2).toISOString() },
    { tag: '1.0.0', digest: D1, mirroredAt: at(1).toISOString() },
  ]);
  t.match(s.conditions, [
    { type: 'Ready', status: 'True', reason: 'Selected', message: /selected 1\.1\.0 \(222222222222\)/, observedGeneration: 3, lastTransitionTime: at(10).toISOString() },
    { type: 'Polling', status: 'True', reason: 'Scheduled', message: /@daily/ },
    { type: 'Error', status: 'False', reason: 'NoError' },
  ]);
  t.notOk('alias' in s, 'no alias field while the watch state has none');
});

t.test('a failed poll: Ready False, Error True with the code; transition times move only with the status', async (t) => {
  const ok = buildStatus({ generation: 1, previous: undefined, watch: polled({ selected: { tag: 'a', digest: D1, since: '' } }), held: [], schedule: '@daily', now: at(1) });
  const failed = buildStatus({ generation: 1, previous: ok, watch: polled({ selected: { tag: 'a', digest: D1, since: '' }, lastResult: 'error', error: { code: 'FERRY_ERR_X', message: 'upstream said 503' }, consecutiveErrors: 2 }), held: [], schedule: '@daily', now: at(20) });
  const c = Object.fromEntries(failed.conditions.map((x) => [x.type, x]));
  t.match(c.Ready, { status: 'False', reason: 'PollFailed', message: /keeps a/, lastTransitionTime: at(20).toISOString() });
  t.match(c.Error, { status: 'True', reason: 'PollFailed', message: 'FERRY_ERR_X: upstream said 503' });
  t.match(c.Polling, { status: 'True', reason: 'Retrying', lastTransitionTime: at(1).toISOString() }, 'Polling stayed True: its time stays');
  t.ok(statusChanged(ok, failed, at(20)));
});

t.test('an alias in the watch state is shown; a no-match says why', async (t) => {
  const s = buildStatus({ generation: 1, previous: undefined, watch: { ...polled({ lastResult: 'no-match', reason: 'no tag satisfies ~9' }), alias: { tag: 'stable', digest: D1 } } as WatchStatus, held: [], schedule: '@daily', now: at(1) });
  t.same(s.alias, { tag: 'stable', digest: D1 });
  t.match(s.conditions[0], { type: 'Ready', status: 'False', reason: 'NoMatch', message: 'no tag satisfies ~9' });
});

t.test('writes: on any change, else lastPollAt at most once a minute; key order and nulls do not count', async (t) => {
  const w = polled({ selected: { tag: 'a', digest: D1, since: '' } });
  const s1 = buildStatus({ generation: 1, previous: undefined, watch: w, held: [], schedule: '@daily', now: at(0) });
  // the API server hands the status back with its own key order and without nulls
  const fromServer = JSON.parse(JSON.stringify(s1, Object.keys(s1).sort().concat('tag', 'digest', 'type', 'status', 'reason', 'message', 'lastTransitionTime', 'observedGeneration')));
  const later = (s: number) => buildStatus({ generation: 1, previous: fromServer, watch: { ...w, lastPollAt: at(s).toISOString() }, held: [], schedule: '@daily', now: at(s) });
  t.notOk(statusChanged(fromServer, buildStatus({ generation: 1, previous: fromServer, watch: w, held: [], schedule: '@daily', now: at(5) }), at(5)), 'the same status is not written again');
  t.notOk(statusChanged(fromServer, later(30), at(30)), 'a newer lastPollAt alone within a minute is not written');
  t.ok(statusChanged(fromServer, later(LAST_POLL_REFRESH_MS / 1000 + 1), at(LAST_POLL_REFRESH_MS / 1000 + 1)), 'after a minute it is');
  t.ok(statusChanged(fromServer, buildStatus({ generation: 2, previous: fromServer, watch: w, held: [], schedule: '@daily', now: at(5) }), at(5)), 'a new generation is written at once');
});

t.test('an invalid spec: not Ready, not Polling, Error with the problems', async (t) => {
  const s = invalidStatus(['spec.schedule: invalid cron "61 * * * *"', 'spec: unknown key "x"'], 4, undefined, at(0));
  t.match(s, { observedGeneration: 4 });
  t.notOk('selected' in s);
  t.match(s.conditions, [
    { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'spec.schedule: invalid cron "61 * * * *"; spec: unknown key "x"' },
    { type: 'Polling', status: 'False', reason: 'InvalidSpec' },
    { type: 'Error', status: 'True', reason: 'InvalidSpec' },
  ]);
  t.notOk(statusChanged(s, invalidStatus(['spec.schedule: invalid cron "61 * * * *"', 'spec: unknown key "x"'], 4, s, at(9)), at(9)), 'said once per generation and message');
});
