import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { CODE_OF_STATUS, ERROR_CODES, wireCode, type ErrorCode } from './openapi/error-catalogue';

class ErrorDetail {
  @ApiProperty({ example: 'invalid_request', description: 'Stable, machine-readable error code (docs/api.md lists them per status)' })
  code: string;
  @ApiProperty({ example: 'name must be a string', description: 'What went wrong, for a human' })
  message: string;
  // A list (the failing fields of a 400, the schema errors of invalid_event) or an object (the state of a 409
  // invalid_transition, the sizes of a 413 event_too_large): declared as exactly that, so strict validators and
  // generated types accept both (an `unknown` property comes out as an empty object type).
  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'array', items: { type: 'object', additionalProperties: true } },
      { type: 'object', additionalProperties: true },
    ],
    description: 'Extra detail: the failing fields of a 400 as [{field, problems}], the schema errors of invalid_event as [{path, message}], the current state of a 409 invalid_transition…',
  })
  details?: unknown;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetail })
  error: ErrorDetail;
}

/** An error this operation answers with its own wording (the catalogue's message is a generic example). */
export interface ErrorOutcome {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** A status (its generic code), a code of the catalogue, or a code with this operation's own message. */
export type Outcome = number | ErrorCode | ErrorOutcome;

/** `error('not_found', "Incident 'INC-2026-0001' not found")`: the message this operation really gives. */
export const error = (code: ErrorCode, message: string, details?: unknown): ErrorOutcome => ({ code, message, details });

/**
 * Documents the error outcomes of an endpoint, all rendered as {"error":{"code","message","details"?}}: one
 * response per status, with an example per code (the server's own wording). The description is written from
 * the codes when the document is built (src/http/openapi/openapi-document.ts), with the outcomes every
 * operation of its kind shares (401 on a bearer route, 429, 500, 503, the body parser's 400/413/415).
 */
export function ApiErrors(...outcomes: Outcome[]) {
  const keys = new Set<string>();
  return applyDecorators(
    ...outcomes.map((outcome) => {
      const { code, message, details } = typeof outcome === 'object' ? outcome : resolve(outcome);
      const entry = ERROR_CODES[code];
      // The catalogue's own example is shared (components.examples, added by openapi-document.ts); an operation's own wording is inline.
      const example =
        typeof outcome === 'object'
          ? { summary: `${wireCode(code)}: ${entry.meaning}`, value: { error: { code: wireCode(code), message, ...(details === undefined ? {} : { details }) } } }
          : // A Reference Object stands for an Example Object in OpenAPI; the decorator's type knows only inline ones.
            ({ $ref: `#/components/examples/${code}` } as unknown as { summary: string; value: unknown });
      // Two examples of one code (the validator's invalid_request and the handler's own) each keep their key.
      let key: string = code;
      for (let n = 2; keys.has(key); n++) key = `${code}_${n}`;
      keys.add(key);
      return ApiResponse({
        status: entry.status,
        description: '',
        type: ErrorResponseDto,
        examples: { [key]: example },
      });
    }),
  );
}

function resolve(outcome: number | ErrorCode): ErrorOutcome {
  const code = typeof outcome === 'number' ? CODE_OF_STATUS[outcome] : outcome;
  if (code === undefined) throw new Error(`ApiErrors: no generic error code for status ${String(outcome)}`);
  const entry: { message: string; details?: unknown } = ERROR_CODES[code];
  return { code, message: entry.message, details: entry.details };
}
