/** The record rules of retry, block and unblock, on plain records: no Redis. */
import t from 'tap';
import {
  IMAGE_STATES,
  blockPatch,
  recordMirrorRef,
  retryRefusal,
  unblockPatch,
  unblockRefusal,
  type ImageRecord,
  type ImageState,
  type NewRecordBasics,
} from '../../src/queue/index.js';

const NOW = '2024-09-30T12:00:00.000Z';

function record(state: ImageState, over: Partial<ImageRecord> = {}): ImageRecord {
  return {
    ref: 'docker.io/library/nginx:1.27',
    mirrorRef: 'mirror.local:5000/docker.io/library/nginx:1.27',
    state,
    attempts: 2,
    maxAttempts: 8,
    lastError: state === 'error' || state === 'retrying' ? 'HTTP 404' : null,
    nextAttemptAt: state === 'retrying' ? '2024-09-30T12:05:00.000Z' : null,
    digest: `sha256:${'a'.repeat(64)}`,
    bytesTotal: 100,
    bytesDone: 100,
    updatedAt: '2024-09-30T11:00:00.000Z',
    createdAt: '2024-09-30T10:00:00.000Z',
    source: 'admission',
    mirroredAt: '2024-09-30T10:30:00.000Z',
    blockedReason: state === 'blocked' ? 'CVE-2024-3094' : null,
    ...over,
  };
}

t.test('retryRefusal: a blocked image and a copying one are refused, every other state may be retried', async (t) => {
  t.same(retryRefusal(record('blocked')), { why: 'blocked', blockedReason: 'CVE-2024-3094' });
  t.same(retryRefusal(record('blocked', { blockedReason: null })), { why: 'blocked', blockedReason: null }, 'no reason is passed on as null');
  t.same(retryRefusal(record('copying')), { why: 'copying' });
  for (const state of IMAGE_STATES.filter((s) => s !== 'blocked' && s !== 'copying')) {
    t.equal(retryRefusal(record(state)), undefined, `${state} may be retried`);
  }
});

t.test('unblockRefusal: only a blocked image can be unblocked; the refusal names the state', async (t) => {
  t.equal(unblockRefusal(record('blocked')), undefined);
  for (const state of IMAGE_STATES.filter((s) => s !== 'blocked')) {
    t.same(unblockRefusal(record(state)), { why: 'not-blocked', state }, `${state} is refused`);
  }
});

t.test('blockPatch on a known record: blocked with the reason, no next attempt, its history kept', async (t) => {
  let asked = 0;
  const basics = (): NewRecordBasics => {
    asked++;
    throw new Error('no mirror reference can be derived');
  };
  const before = record('retrying');
  t.same(blockPatch(before, 'CVE-2024-1234', NOW, basics), { state: 'blocked', blockedReason: 'CVE-2024-1234', nextAttemptAt: null });
  t.equal(asked, 0, 'the new-record basics are not asked for (deriving them may fail)');
  t.equal(before.state, 'retrying', 'the record itself is left alone');
});

t.test('blockPatch on an unknown image: a whole blocked record from the basics, created now', async (t) => {
  const patch = blockPatch(undefined, 'not allowed here', NOW, () => ({ mirrorRef: 'mirror.local:5000/docker.io/library/alpine:3', maxAttempts: 3, source: 'api' }));
  t.same(patch, {
    state: 'blocked',
    blockedReason: 'not allowed here',
    mirrorRef: 'mirror.local:5000/docker.io/library/alpine:3',
    attempts: 0,
    maxAttempts: 3,
    lastError: null,
    nextAttemptAt: null,
    digest: null,
    bytesDone: 0,
    bytesTotal: 0,
    createdAt: NOW,
    source: 'api',
    mirroredAt: null,
  });
  // Field order is the record hash's order in Redis, hence the order of the API's JSON.
  t.same(Object.keys(patch), ['state', 'blockedReason', 'mirrorRef', 'attempts', 'maxAttempts', 'lastError', 'nextAttemptAt', 'digest', 'bytesDone', 'bytesTotal', 'createdAt', 'source', 'mirroredAt']);
});

t.test('unblockPatch: queued with the reason cleared; a fresh object every time', async (t) => {
  t.same(unblockPatch(), { state: 'queued', blockedReason: null });
  t.not(unblockPatch(), unblockPatch(), 'callers may extend it without touching the next caller');
});

t.test("recordMirrorRef: the record's own mirror reference, else (no record, or none in it) the derived one", async (t) => {
  t.equal(recordMirrorRef(record('error'), () => t.fail('not derived') as never), 'mirror.local:5000/docker.io/library/nginx:1.27');
  t.equal(recordMirrorRef(record('error', { mirrorRef: '' }), () => 'derived/now:1'), 'derived/now:1');
  t.equal(recordMirrorRef(undefined, () => 'derived/now:2'), 'derived/now:2');
});
