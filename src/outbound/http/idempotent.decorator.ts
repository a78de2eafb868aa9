import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** A creating POST that honours `Idempotency-Key` (idempotency.interceptor.ts), documented in the OpenAPI document. */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Up to 255 visible ASCII characters. The same key and body within 24 h get the first answer again (header Idempotent-Replayed: true), on any instance; a secret shown in the first answer is left out',
    }),
    ApiResponse({ status: 422, description: 'idempotency_key_reused: the key was used with another body' }),
    ApiResponse({ status: 409, description: 'idempotency_key_in_progress: a request with this key is still running' }),
  );
