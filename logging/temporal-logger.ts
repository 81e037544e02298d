import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';

const METHOD = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<LogLevel, string>;

/**
 * The Temporal SDK's logger interface over pino, for `Runtime.install({ logger })`: the SDK's own
 * lines, forwarded Core lines and the workflow and activity context loggers all become pino
 * lines with the same redaction as the rest of Rotor.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(
    private readonly pino: Logger,
    /** Lines to leave out, e.g. ones another part of Rotor writes in a better form. */
    private readonly drop: (message: string, meta: LogMetadata) => boolean = () => false,
  ) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (this.drop(message, meta)) return;
    // pino's error serializer (message, type, stack) runs on `err`; the SDK names it `error`.
    const { error, ...rest } = meta as { error?: unknown } & LogMetadata;
    const fields = error === undefined ? rest : { ...rest, err: error };
    this.pino[METHOD[level]](fields, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
