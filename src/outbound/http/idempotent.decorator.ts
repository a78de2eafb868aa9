import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiErrors } from '../../http/api-errors.decorator';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** A creating POST that honours `Idempotency-Key` (idempotency.interceptor.ts), documented in the OpenAPI document. */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 255 },
      description:
        'Up to 255 visible ASCII characters. The same key and body within 24 h get the first answer again (header Idempotent-Replayed: true), on any instance; a secret shown in the first answer is left out',
    }),
    ApiErrors('invalid_idempotency_key', 'idempotency_key_in_progress', 'idempotency_key_reused'),
  );
