import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

class ErrorDetail {
  @ApiProperty({ example: 'invalid_request', description: 'Stable, machine-readable error code' })
  code: string;
  @ApiProperty({ example: 'name must be a string' })
  message: string;
  @ApiProperty({ required: false, description: 'Extra detail, e.g. the failing fields of a 400' })
  details?: unknown;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetail })
  error: ErrorDetail;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid_request: the body or a parameter is malformed (details name the fields)',
  401: 'unauthorized: missing, unknown or revoked API key',
  403: 'forbidden: the key lacks the required scope',
  404: 'not_found: no such resource in the caller’s organisation',
  409: 'conflict: the resource changed concurrently or already exists',
  413: 'payload_too_large: the body exceeds the configured limit',
  415: 'unsupported_media_type: the body is not application/json',
};

/** Documents the error outcomes of an endpoint, all rendered as {"error":{"code","message"}}. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorResponseDto })),
  );
}
