import pino, { Logger, LoggerOptions } from 'pino';
import { logContext } from './correlation';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.authorization',
  'config.auth.tokens',
  'config.tracking.secret',
];

/** Hides the password of a connection URL (`postgres://u:secret@h/db` → `postgres://u:***@h/db`). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** pino options shared by the Nest logger and plain loggers: JSON, redaction, trace and correlation ids. */
export function loggerOptions(app: string, level: string): LoggerOptions {
  return {
    level,
    base: { app },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: logContext,
  };
}

/** A JSON logger for code outside Nest (CLIs, the dev stack runner). */
export function createLogger(app: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino(loggerOptions(app, level));
}
