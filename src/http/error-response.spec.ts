import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WrongExpectedVersion } from '../event-store/event-store.errors';
import { AppError } from './app-error';
import { toErrorResponse } from './error-response';

describe('toErrorResponse', () => {
  it('renders an AppError with its code, status and details', () => {
    expect(toErrorResponse(new AppError(400, 'invalid_request', 'bad', [{ field: 'name' }]))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'bad', details: [{ field: 'name' }] } },
    });
  });

  it('turns an unexpected error into a 500 that reveals neither message nor stack', () => {
    const { status, body } = toErrorResponse(new TypeError('secret internals at /srv/app.js:12'));
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
  });

  it('maps a concurrency conflict that escaped its handler to 409 conflict', () => {
    expect(toErrorResponse(new WrongExpectedVersion('s-1', 1n, 2n))).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it("maps framework errors by status: Nest's exceptions and Fastify's body limits", () => {
    expect(toErrorResponse(new BadRequestException('nope')).body.error.code).toBe('invalid_request');
    const tooLarge = Object.assign(new Error('FST_ERR_CTP_BODY_TOO_LARGE'), { statusCode: 413 });
    expect(toErrorResponse(tooLarge)).toEqual({ status: 413, body: { error: { code: 'payload_too_large', message: 'Request body is too large' } } });
  });
});
