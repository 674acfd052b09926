/**
 * cert-manager renews the serving certificate by rewriting the mounted
 * Secret (a `..data` symlink swap in the Secret's folder): reload the pair
 * into the running server so no restart is needed. Both files' folders are
 * watched (cert and key may be mounted apart), changes are debounced, and a
 * half-written pair (cert and key that do not match yet) keeps the previous
 * one until the next change.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface CertificateWatcher {
  /** A reload is scheduled (a change was seen less than `debounceMs` ago). */
  readonly pending: boolean;
  close(): void;
}

export function watchCertificate(files: string[], reload: () => Promise<void>, opts: { debounceMs?: number; onError?: (e: unknown) => void } = {}): CertificateWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const changed = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) void reload().catch((e) => opts.onError?.(e));
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, changed);
      w.on('error', (e) => opts.onError?.(e));
      watchers.push(w);
    } catch (e) {
      opts.onError?.(e);
    }
  }
  return {
    get pending() {
      return timer !== undefined;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const w of watchers) w.close();
    },
  };
}
