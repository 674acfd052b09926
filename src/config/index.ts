export { DEFAULTS } from './defaults.js';
export { CONFIG_SCHEMA } from './schema.js';
export { CONFIG_ERROR_TABLE } from './errors.js';
export { loadConfig, resolveConfig, envOverrideNames, type LoadedConfig } from './load.js';
export { watchConfigFile, type ConfigFileWatcher } from './reload.js';
export { nextCronRun } from './cron.js';
export { parseDuration, formatDuration } from './duration.js';
export * from './types.js';
export { maskSecrets, secretLogPaths, SECRET_CONFIG_PATHS, NOT_SECRET_CONFIG_PATHS, SECRET_MARKER, type SecretPath } from './secrets.js';
