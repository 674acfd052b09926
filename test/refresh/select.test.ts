/** Drift refresh selection (pure): which records are targets, and the per-host budget. */
import t from 'tap';
import type { ImageRecord } from '../../src/queue/index.js';
import { refreshTarget, selectForRun } from '../../src/refresh/index.js';

const D = `sha256:${'a'.repeat(64)}`;

function rec(ref: string, extra: Partial<ImageRecord> = {}): ImageRecord {
  return {
    ref,
    mirrorRef: `m:5000/${ref}`,
    state: 'mirrored',
    attempts: 1,
    maxAttempts: 3,
    lastError: null,
    nextAttemptAt: null,
    digest: D,
    sourceDigest: D,
    bytesTotal: 0,
    bytesDone: 0,
    updatedAt: '2025-01-01T00:00:00Z',
    createdAt: '2025-01-01T00:00:00Z',
    source: 'admission',
    mirroredAt: '2025-01-01T00:00:00Z',
    blockedReason: null,
    ...extra,
  };
}

t.test('targets: mirrored tag records only, not blocked, not watch-owned, not imported', async (t) => {
  const rows: [string, ImageRecord, boolean][] = [
    ['a mirrored tag', rec('docker.io/library/nginx:1.27'), true],
    ['an api record', rec('ghcr.io/o/app:main', { source: 'api' }), true],
    ['a digest reference cannot move', rec(`docker.io/library/nginx@${D}`), false],
    ['tag and digest: pinned', rec(`docker.io/library/nginx:1.27@${D}`), false],
    ['queued', rec('docker.io/library/a:1', { state: 'queued' }), false],
    ['blocked', rec('docker.io/library/a:1', { state: 'blocked', blockedReason: 'x' }), false],
    ['owned by a watch', rec('docker.io/library/a:1', { source: 'watch' }), false],
    ['imported', rec('docker.io/library/a:1', { source: 'import' }), false],
    ['no digest', rec('docker.io/library/a:1', { digest: null }), false],
  ];
  for (const [name, r, want] of rows) t.equal(refreshTarget(r) !== undefined, want, name);
  t.equal(refreshTarget(rec('localhost:5000/a:1'))?.host, 'localhost:5000');
});

t.test('budget per host, least recently checked first (never checked before any), the rest deferred', async (t) => {
  const targets = ['docker.io/library/a:1', 'docker.io/library/b:1', 'docker.io/library/c:1', 'docker.io/library/d:1', 'ghcr.io/o/x:1'].map((r) => refreshTarget(rec(r))!);
  const last = new Map([
    ['docker.io/library/a:1', 300],
    ['docker.io/library/b:1', 100],
    ['docker.io/library/c:1', 200],
  ]);
  const { batches, deferred } = selectForRun(targets, last, 2);
  t.same(
    batches.map((b) => [b.host, b.targets.map((x) => x.ref)]),
    [
      ['docker.io', ['docker.io/library/d:1', 'docker.io/library/b:1']],
      ['ghcr.io', ['ghcr.io/o/x:1']],
    ],
  );
  t.same(deferred.map((x) => x.ref), ['docker.io/library/c:1', 'docker.io/library/a:1']);
  t.same(selectForRun(targets, last, 0).deferred.length, 5, 'a zero budget defers everything');
});
