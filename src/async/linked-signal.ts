/**
 * A signal that aborts when any source does, unhooked from its sources by
 * `dispose()` once the work it guards is over.
 *
 * Why not `AbortSignal.any`: on Node 20 a composite signal stays registered
 * with each source until that source aborts, even after the composite is
 * garbage (nodejs/node#55351; measured on 20.20: 100,000 calls leave 100,000
 * entries after a forced GC). ferry's sources live long (the engine's close
 * signal, a watcher's, the transport's), and every engine call and every
 * request links to them, so that would grow for as long as the process
 * runs. Linking per call with a listener that is removed keeps nothing.
 */
import { setMaxListeners } from 'node:events';

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Aborts the linked signal itself (its sources are not touched). */
  abort(reason?: unknown): void;
  /** Stops following the sources; the signal keeps whatever state it has. */
  dispose(): void;
}

export function linkedSignal(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const ctrl = new AbortController();
  setMaxListeners(0, ctrl.signal); // one listener per in-flight request is expected
  const subs: [AbortSignal, () => void][] = [];
  for (const s of sources) {
    if (!s) continue;
    if (s.aborted) {
      ctrl.abort(s.reason);
      break;
    }
    const fn = () => ctrl.abort(s.reason);
    s.addEventListener('abort', fn, { once: true });
    subs.push([s, fn]);
  }
  return {
    signal: ctrl.signal,
    abort: (r?: unknown) => ctrl.abort(r),
    dispose: () => {
      for (const [s, fn] of subs) s.removeEventListener('abort', fn);
      subs.length = 0;
    },
  };
}
