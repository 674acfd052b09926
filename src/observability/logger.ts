import { pino, type Logger } from 'pino';

/** Paths pino blanks in every log line: credentials must never reach logs. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.dashboard.token',
  'config.registries.*.password',
  'auth',
  '*.auth',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'ferry' } };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}

export type { Logger };
