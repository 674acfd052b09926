/** Logs, metrics and the ops endpoints every process serves (/healthz, /readyz, /metrics). */
export { createLogger, defaultLogFormat, isLogFormat, serializeError, LOG_CENSOR, REDACT_PATHS, type LogFormat, type Logger } from '../logging/index.js';
export { enableDefaultMetrics, register } from './metrics.js';
export { addOpsRoutes, createHttpApp, quietRequests, MAX_PARAM_LENGTH, type Readiness, type ReadinessCheck } from './ops-server.js';
