export { DEFAULTS } from './defaults.js';
export { CONFIG_SCHEMA } from './schema.js';
export { loadConfig, resolveConfig, envOverrideNames, type LoadedConfig } from './load.js';
export { watchConfig, type ConfigWatcher } from './watch.js';
export * from './types.js';
export { maskSecrets, SECRET_CONFIG_PATHS, NOT_SECRET_CONFIG_PATHS, SECRET_MARKER, type SecretPath } from './secrets.js';
