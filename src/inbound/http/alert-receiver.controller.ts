import { Controller, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, Public, RequireScope } from '../../auth/auth.decorators';
import type { Principal } from '../../auth/principal';
import { toErrorResponse } from '../../http/error-response';
import { ApiErrors, ErrorResponseDto } from '../../http/api-errors.decorator';
import { notFound } from '../../http/app-error';
import type { WebhookAnswer } from '../events/alert.events';
import { ReceiptsProjection } from '../projections/receipts.projection';
import { AlertReceiver } from '../receiving/alert-receiver';
import { noteWebhook } from './inbound-observer';
import { QueueEntryDto, WebhookAcceptedDto, WebhookQueuedDto } from './alert-receiver.dto';

const refusal = (status: number, description: string) => ApiResponse({ status, description, type: ErrorResponseDto });

@ApiTags('webhooks')
@Controller('api/webhooks')
export class AlertReceiverController {
  constructor(
    private readonly receiver: AlertReceiver,
    private readonly receipts: ReceiptsProjection,
  ) {}

  @Post(':source')
  @Public()
  @HttpCode(202)
  // The body reaches the handler unparsed: the signature is checked over its exact bytes first.
  @RouteConfig({ rawJsonBody: true, webhookReceiver: true })
  @ApiOperation({
    summary: 'Receive an alert from a registered source, authenticated by its HMAC signature',
    description:
      'X-Webhook-Signature is sha256=<hex HMAC-SHA256(secret, "<X-Webhook-Timestamp>.<raw body>")> (openssl dgst output such as ' +
      '"SHA2-256(stdin)= <hex>" after sha256= is accepted too), checked against every active secret of the source; the ' +
      'timestamp (Unix seconds) must be within 5 minutes of the server clock. Checks in order: unknown source (404), ' +
      'timestamp (401), signature (401), then the payload (400). An exact replay (same source, timestamp and signature) ' +
      'is never processed twice and gets the first answer again. Payloads of every supported vendor are detected ' +
      '(or set per source) and normalized; a batch yields one alert per item. A body with "event_type":"test" is a ' +
      'test event: verified and answered, but recorded nowhere and opening no incident.',
  })
  @ApiHeader({ name: 'X-Webhook-Signature', required: true, example: 'sha256=8ad00c4e6f4b6c5b3d4dcece915fd33fd924a31c208133e2a75b6bb9af1617e3' })
  @ApiHeader({ name: 'X-Webhook-Timestamp', required: true, example: '1705320000' })
  @ApiBody({
    description: 'The vendor payload, JSON',
    schema: { type: 'object', additionalProperties: true },
    examples: {
      generic: {
        value: { event_type: 'security_alert', timestamp: '2024-01-15T10:00:00Z', source: 'email-gateway', data: { alert_id: 'alert-123', severity: 'high', details: {} } },
      },
      test: { value: { event_type: 'test', data: {} } },
    },
  })
  @ApiExtraModels(WebhookAcceptedDto, WebhookQueuedDto)
  @ApiResponse({
    status: 202,
    description: 'accepted (processed: the incident it opened or updated) or queued (async source, or the synchronous path is saturated)',
    schema: { oneOf: [{ $ref: getSchemaPath(WebhookAcceptedDto) }, { $ref: getSchemaPath(WebhookQueuedDto) }] },
  })
  @refusal(400, 'invalid_payload: the body is not JSON, is nested deeper than 64 levels, holds an unpaired surrogate (\\ud800), or is neither an object nor a non-empty array of objects')
  @refusal(401, 'timestamp_expired: X-Webhook-Timestamp missing, not Unix seconds, or more than 5 minutes off; invalid_signature: no active secret of the source signed this request')
  @refusal(404, "unknown_source: no source of that name is registered")
  @refusal(413, 'payload_too_large: the body exceeds TW_BODY_LIMIT; too_many_alerts: more alerts than TW_WEBHOOK_MAX_ALERTS in one request; event_too_large: the receipt it records would exceed TW_MAX_APPEND_SIZE')
  @refusal(415, 'unsupported_media_type: the body is not application/json')
  @refusal(429, 'rate_limited: the source sent more than its rate limit in the window; Retry-After and RateLimit-* say when to retry')
  async receive(
    @Req() request: FastifyRequest,
    @Param('source') source: string,
    @Headers('x-webhook-timestamp') timestamp: string | undefined,
    @Headers('x-webhook-signature') signature: string | undefined,
  ): Promise<WebhookAnswer> {
    try {
      const result = await this.receiver.receive({
        source,
        timestamp,
        signature,
        body: request.rawBody ?? Buffer.alloc(0),
        contentType: request.headers['content-type'],
        userAgent: request.headers['user-agent'],
        requestId: request.id,
      });
      noteWebhook(request, { answer: result.answer, test: result.test, replay: result.replay });
      return result.answer;
    } catch (error) {
      // The code the answer will carry (the one mapping from errors to answers), also for store errors (413, 503).
      noteWebhook(request, { code: toErrorResponse(error).body.error.code });
      throw error;
    }
  }

  @Get('queue/:queue_id')
  @ApiBearerAuth()
  @RequireScope('read')
  @ApiOperation({ summary: 'What became of a queued webhook: still queued, or processed with the answer it would have had' })
  @ApiOkResponse({ type: QueueEntryDto })
  @ApiErrors(401, 403, 404)
  queueEntry(@CurrentPrincipal() principal: Principal, @Param('queue_id') queueId: string): QueueEntryDto {
    const receipt = this.receipts.receipt(queueId.toLowerCase());
    // Another organisation's entry is as unknown as a missing one.
    if (!receipt || (principal.kind === 'api_key' && principal.organisationId !== receipt.organisationId)) {
      throw notFound(`Queue entry '${queueId}' not found`);
    }
    return {
      queue_id: receipt.id,
      source: receipt.source,
      status: receipt.processedAt === null ? 'queued' : 'processed',
      received_at: receipt.receivedAt,
      processed_at: receipt.processedAt,
      result: receipt.answer,
    };
  }
}
