/**
 * `tagMoved` from the watcher: every poll that changed a watch's selection
 * (`moved`: the same tag at a new digest; `new-tag`: another tag selected)
 * becomes one event. The first selection (`initial`) is not a move.
 */
import type { NotifyInput } from './event.js';
import type { NotifySink } from './queue.js';

/** The part of src/watch's PollReport this reads. */
export interface PolledLike {
  id: string;
  change?: { at: string; kind: string; tag: string; previousTag: string | null; oldDigest: string | null; newDigest: string; ref: string; mirrorRef: string } | undefined;
}

export interface PollEmitter {
  on(event: 'polled', listener: (r: PolledLike) => void): unknown;
  off(event: 'polled', listener: (r: PolledLike) => void): unknown;
}

export function tagMovedInput(r: PolledLike): NotifyInput | undefined {
  const c = r.change;
  if (!c || (c.kind !== 'moved' && c.kind !== 'new-tag')) return undefined;
  return { event: 'tagMoved', ref: c.ref, mirrorRef: c.mirrorRef, oldDigest: c.oldDigest, newDigest: c.newDigest, watchId: r.id, kind: c.kind, tag: c.tag, previousTag: c.previousTag, at: c.at };
}

/** Listens to `polled`; returns the function that stops listening. A failed emit is passed to `onError` (the poll stands). */
export function notifyWatchChanges(watcher: PollEmitter, notifier: NotifySink, onError: (e: unknown, r: PolledLike) => void = () => {}): () => void {
  const listener = (r: PolledLike): void => {
    const input = tagMovedInput(r);
    if (input) notifier.emit(input).catch((e) => onError(e, r));
  };
  watcher.on('polled', listener);
  return () => watcher.off('polled', listener);
}
