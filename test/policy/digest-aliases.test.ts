/**
 * The digest alias index admission's block rules use: counted pairs, kept
 * current from a RecordFeed's events and reloads (no Redis: the feed reads a
 * stub store and events are applied by hand, as the subscriber would).
 */
import t from 'tap';
import type { Redis } from 'ioredis';
import { DigestAliases } from '../../src/queue/digest-aliases.js';
import { RecordFeed } from '../../src/queue/record-feed.js';
import { StateView } from '../../src/queue/state-view.js';
import type { ImageRecord } from '../../src/queue/record.js';
import type { ImageStore } from '../../src/queue/store.js';

const UP = 'sha256:' + 'a'.repeat(64);
const NEW = 'sha256:' + 'b'.repeat(64);
const NEW2 = 'sha256:' + 'c'.repeat(64);

function record(ref: string, digest: string | null, sourceDigest: string | null): ImageRecord {
  const at = '2026-01-01T00:00:00Z';
  return {
    ref, mirrorRef: `m/${ref}`, state: 'mirrored', attempts: 1, maxAttempts: 5, lastError: null, nextAttemptAt: null,
    digest, sourceDigest, bytesTotal: 0, bytesDone: 0, updatedAt: at, createdAt: at, source: 'api', mirroredAt: at, blockedReason: null,
  };
}

t.test('pairs both ways, counted, never below zero', async (t) => {
  const a = new DigestAliases();
  const tag = { digest: NEW, sourceDigest: UP };
  const pinned = { digest: NEW, sourceDigest: UP };
  a.add(tag);
  a.add(pinned);
  a.add({ digest: UP, sourceDigest: UP });
  a.add({ digest: NEW2, sourceDigest: null });
  t.same(a.of(NEW), [UP]);
  t.same(a.of(UP), [NEW]);
  t.same(a.of(NEW2), [], 'no source digest: no alias');
  t.same(a.of(null), []);
  a.remove(tag);
  t.same(a.of(UP), [NEW], 'the pinned record still holds the pair');
  a.remove(pinned);
  t.same(a.of(UP), [], 'gone with its last record');
  t.equal(a.size, 0);
  a.remove(pinned);
  a.add(pinned);
  t.same(a.of(UP), [NEW], 'a removal of what is not held does not cancel a later add');
  a.add({ digest: NEW2, sourceDigest: UP });
  t.same(a.of(UP).sort(), [NEW, NEW2], 'one upstream digest filtered two ways');
});

t.test('follows a feed: reloads, state changes, removals; progress changes nothing', async (t) => {
  let contents: ImageRecord[] = [record('docker.io/x:1', NEW, UP), record(`docker.io/x@${UP}`, NEW, UP)];
  const store = { k: { events: 'events' }, listAll: async () => contents } as unknown as ImageStore;
  const feed = new RecordFeed(store, {} as unknown as Redis);
  await feed.reload();
  const view = new StateView(feed);
  t.same(view.digestAliases(NEW), [UP], 'built from what the feed held already');

  feed.apply({ type: 'progress', ref: 'docker.io/x:1', bytesDone: 1, bytesTotal: 2, updatedAt: '2026-01-02T00:00:00Z' });
  feed.apply({ type: 'state', ref: 'docker.io/x:1', record: record('docker.io/x:1', NEW2, UP) });
  t.same(view.digestAliases(UP).sort(), [NEW, NEW2], 'the tag moved to another filtered index; the digest reference keeps its pair');
  feed.apply({ type: 'removed', ref: `docker.io/x@${UP}` });
  t.same(view.digestAliases(UP), [NEW2]);
  t.same(view.digestAliases(NEW), [], 'no record holds NEW any more');

  contents = [record('docker.io/y:1', NEW, UP)];
  await feed.reload();
  t.same(view.digestAliases(UP), [NEW], 'a reload replaces everything');
  t.same(view.digestAliases(NEW2), []);
});
