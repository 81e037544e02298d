import pino from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import { REDACT_PATHS } from './redact';

export interface LoggerOptions {
  /** Which process wrote the line (`rotor-worker`, `rotor-api`…). */
  name: string;
  level: Level | 'silent';
  /** Where lines go; stdout unless given (tests capture them). */
  destination?: DestinationStream;
}

/** A JSON-lines pino logger with Rotor's redaction list. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: REDACT_PATHS },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Synchronous: a worker that crashes or exits still leaves its last lines behind.
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
