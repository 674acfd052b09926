/**
 * Structured logs (pino) with secrets redacted. Its own folder, apart from
 * observability's metrics and HTTP ops server, so that short commands
 * (`ferry copy`) log without loading fastify or prom-client.
 */
export { createLogger, defaultLogFormat, isLogFormat, serializeError, LOG_CENSOR, REDACT_PATHS, type LogFormat, type Logger } from './logger.js';
