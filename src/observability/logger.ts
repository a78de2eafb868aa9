import type { LoggerService } from '@nestjs/common';
import pino, { type Level, type Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { LogBuffer } from './log-buffer';

const LOG_BUFFER = Symbol('towline.logBuffer');

/** The in-memory window of recent lines a logger made by createLogger writes to (its children share it). */
export function logBufferOf(logger: Logger): LogBuffer | undefined {
  return (logger as Logger & { [LOG_BUFFER]?: LogBuffer })[LOG_BUFFER];
}

/**
 * One JSON logger (pino) for Fastify's request logs and Nest's own messages. Authorization and signature
 * headers are redacted, so key material never reaches a log line by accident.
 *
 * Besides `destination` (stdout by default), at TW_LOG_LEVEL, every line of level info and above (or
 * below, when TW_LOG_LEVEL is debug or trace) also goes to a LogBuffer, so that `GET /api/logs` can show
 * recent activity even when stdout is quiet.
 */
export function createLogger(config: Pick<AppConfig, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const buffer = new LogBuffer();
  const windowLevel: Level = config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'info';
  const streams: pino.StreamEntry[] = [{ level: windowLevel, stream: buffer }];
  if (config.logLevel !== 'silent') streams.push({ level: config.logLevel, stream: destination ?? pino.destination(1) });
  const logger = pino(
    {
      level: windowLevel,
      base: { service: 'towline' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-webhook-signature"]',
          'req.headers["x-api-key"]',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pino.multistream(streams),
  );
  // pino's children are created with Object.create, so they find the buffer through the prototype chain.
  Object.defineProperty(logger, LOG_BUFFER, { value: buffer });
  return logger;
}

/** Nest's LoggerService on top of pino, keeping Nest's context (the class name) as a field. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    // Nest passes (message, stack, context) for errors and (message, context) otherwise.
    if (context) this.logger.error({ context, stack: stackOrContext }, String(message));
    else this.logger.error({ context: stackOrContext }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
