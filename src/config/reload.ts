import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { describeError } from '../errors.js';
import { loadConfig, type LoadedConfig } from './load.js';

/** Stops following the config file. */
export interface ConfigFileWatcher {
  close(): void;
}

/**
 * Hot reload of the config file (`watch:` entries, which follow upstream
 * tags, are src/watch's). Watches the file's directory, not the file:
 * editors replace files by rename, and Kubernetes swaps ConfigMap mounts
 * through a symlink, both of which a watch on the file itself loses. A new
 * config that does not validate is reported and the old one stays in force.
 */
export function watchConfigFile(
  file: string,
  onChange: (loaded: LoadedConfig) => void,
  onInvalid: (message: string) => void,
  opts: { debounceMs?: number; env?: NodeJS.ProcessEnv; /** The config the caller already loaded from `file`. */ initial?: LoadedConfig['config'] } = {},
): ConfigFileWatcher {
  const path = resolve(file);
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const reload = () => {
    timer = undefined;
    try {
      const loaded = loadConfig(path, opts.env ?? process.env);
      const fingerprint = JSON.stringify(loaded.config);
      if (fingerprint === last) return;
      last = fingerprint;
      onChange(loaded);
    } catch (e) {
      onInvalid(describeError(e));
    }
  };
  if (opts.initial) {
    last = JSON.stringify(opts.initial);
  } else {
    try {
      last = JSON.stringify(loadConfig(path, opts.env ?? process.env).config);
    } catch {
      last = '';
    }
  }
  const watcher: FSWatcher = watch(dirname(path), (_event, changed) => {
    if (changed && changed !== name && !String(changed).startsWith('..')) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, opts.debounceMs ?? 100);
  });
  watcher.on('error', (e) => onInvalid(`config watch failed: ${describeError(e)}`));
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
