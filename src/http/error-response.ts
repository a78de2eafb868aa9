import { HttpException, Logger } from '@nestjs/common';
import { EventTooLarge, StoreUnavailable, WrongExpectedVersion } from '../event-store/event-store.errors';
import { AppError } from './app-error';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const CODES_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Clearer than the frameworks' own wording for the two limits a client most often hits. */
const MESSAGES_BY_STATUS: Record<number, string> = {
  413: 'Request body is too large',
  415: 'Content-Type must be application/json',
};

const logger = new Logger('Errors');

/**
 * The one mapping from anything thrown to `{"error":{"code","message"}}` and a status: AppErrors as they are,
 * Nest's HTTP exceptions and Fastify's own errors (body too large, bad media type) by status, a concurrency
 * conflict that escaped its handler as 409, and everything else as a 500 that reveals nothing.
 */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    return { status: error.status, body, headers: error.headers };
  }
  if (error instanceof EventTooLarge) {
    // Refused before anything was written: the same request can never succeed, so 413 rather than 500.
    return {
      status: 413,
      body: {
        error: {
          code: 'event_too_large',
          message: `The event this request records would be ${error.size} bytes, over the store's limit of ${error.maxAppendSize} bytes (TW_MAX_APPEND_SIZE)`,
          details: { size: error.size, max_append_size: error.maxAppendSize },
        },
      },
    };
  }
  if (error instanceof StoreUnavailable) {
    // Transient (a leader election, a node away) and already retried within a bound: the client retries later.
    return {
      status: 503,
      headers: { 'retry-after': String(error.retryAfterSeconds) },
      body: { error: { code: 'store_unavailable', message: 'The event store is unavailable; retry shortly' } },
    };
  }
  if (error instanceof WrongExpectedVersion) {
    return { status: 409, body: { error: { code: 'conflict', message: 'The resource changed concurrently; retry the request' } } };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const message = MESSAGES_BY_STATUS[status] ?? error.message;
    return { status, body: { error: { code: CODES_BY_STATUS[status] ?? 'error', message } } };
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own errors (FST_ERR_CTP_*): their messages are safe and useful.
    const message = MESSAGES_BY_STATUS[status] ?? (error as Error).message;
    return { status, body: { error: { code: CODES_BY_STATUS[status] ?? 'invalid_request', message } } };
  }
  logger.error((error as Error)?.stack ?? String(error));
  return { status: 500, body: { error: { code: 'internal_error', message: 'Internal server error' } } };
}
