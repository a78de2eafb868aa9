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
import { createHmac } from 'node:crypto';
import { CurrentPrincipal, Public, RequireScope } from '../../auth/auth.decorators';
import type { Principal } from '../../auth/principal';
import { toErrorResponse } from '../../http/error-response';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { notFound } from '../../http/app-error';
import type { WebhookAnswer } from '../events/alert.events';
import { ReceiptsProjection } from '../projections/receipts.projection';
import { AlertReceiver } from '../receiving/alert-receiver';
import { noteWebhook } from './inbound-observer';
import { QueueEntryDto, WebhookAcceptedDto, WebhookQueuedDto } from './alert-receiver.dto';

/**
 * The seed's payload of each vendor format (src/inbound/normalizers/), as examples of the receiver's body. The
 * generic one's `details` holds a real object where the seed prints `{...}`, which is not JSON.
 */
const INBOUND_EXAMPLES = {
  generic: {
    summary: 'Generic format',
    value: {
      event_type: 'security_alert',
      timestamp: '2024-01-15T10:00:00Z',
      source: 'email-gateway',
      data: { alert_id: 'alert-123', severity: 'high', details: { sender: 'phisher@malicious.com', subject: 'Urgent Action Required' } },
    },
  },
  defender: {
    summary: 'Microsoft Defender for Office 365',
    value: {
      eventType: 'PhishingEmail',
      id: 'AAMkAGI2...',
      creationTime: '2024-01-15T10:00:00Z',
      severity: 'high',
      category: 'Phish',
      entityType: 'Email',
      data: { sender: 'phisher@malicious.com', subject: 'Urgent Action Required', recipients: ['user@company.com'] },
    },
  },
  crowdstrike: {
    summary: 'CrowdStrike Falcon',
    value: {
      metadata: { eventType: 'DetectionSummaryEvent', eventCreationTime: 1705320000000 },
      event: { DetectId: 'ldt:abc123', Severity: 4, HostnameField: 'WORKSTATION-01', DetectName: 'Malicious File Detected' },
    },
  },
  splunk: {
    summary: 'Splunk alert',
    value: {
      result: { host: 'server-01', source: 'WinEventLog:Security', sourcetype: 'WinEventLog', _raw: '...', EventCode: '4625' },
      search_name: 'Failed Login Alert',
      trigger_time: 1705320000,
    },
  },
  test: { summary: 'Test event: verified and answered, recorded nowhere, opens no incident', value: { event_type: 'test', data: {} } },
};

/** The header examples are a real signature: of the generic example, at the seed's timestamp, with this secret. */
const EXAMPLE_SECRET = 'your-secret-key';
const EXAMPLE_SIGNATURE = `sha256=${createHmac('sha256', EXAMPLE_SECRET).update(`1705320000.${JSON.stringify(INBOUND_EXAMPLES.generic.value)}`).digest('hex')}`;

@ApiTags(TAGS.alerts.name)
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
  @ApiOperation({ operationId: 'receiveAlert',
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
  @ApiHeader({
    name: 'X-Webhook-Signature',
    required: true,
    description:
      '`sha256=<hex HMAC-SHA256>` keyed by the source\'s secret over `<X-Webhook-Timestamp>.<raw body>` (the exact bytes sent). ' +
      'In a shell: `printf \'%s.%s\' "$TIMESTAMP" "$BODY" | openssl dgst -sha256 -hmac "$SECRET"` (its `SHA2-256(stdin)= <hex>` output after sha256= is accepted too). ' +
      `The example signs the generic example body (compact JSON) at the example timestamp with the secret \`${EXAMPLE_SECRET}\`.`,
    schema: { type: 'string', pattern: '^sha256=' },
    example: EXAMPLE_SIGNATURE,
  })
  @ApiHeader({
    name: 'X-Webhook-Timestamp',
    required: true,
    description: 'Unix seconds when the request was signed; refused (401 timestamp_expired) more than 5 minutes from the server clock.',
    schema: { type: 'string', pattern: '^\\d+$' },
    example: '1705320000',
  })
  @ApiBody({
    description:
      "The vendor's payload, JSON: one alert, or a non-empty array of them. The format is detected (or set per source): one example per supported vendor, as the seed shows them.",
    schema: { oneOf: [{ type: 'object', additionalProperties: true }, { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: true } }] },
    examples: INBOUND_EXAMPLES,
  })
  @ApiExtraModels(WebhookAcceptedDto, WebhookQueuedDto)
  @ApiResponse({
    status: 202,
    description: 'accepted (processed: the incident it opened or updated) or queued (async source, or the synchronous path is saturated)',
    schema: { oneOf: [{ $ref: getSchemaPath(WebhookAcceptedDto) }, { $ref: getSchemaPath(WebhookQueuedDto) }] },
  })
  @ApiErrors(
    'invalid_payload',
    'timestamp_expired',
    'invalid_signature',
    'unknown_source',
    'too_many_alerts',
    error('rate_limited', "Rate limit exceeded: at most 600 requests per 1m; retry in 12 seconds"),
  )
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
  @ApiOperation({ operationId: 'getQueuedAlert', summary: 'What became of a queued webhook: still queued, or processed with the answer it would have had' })
  @ApiOkResponse({ type: QueueEntryDto })
  @ApiErrors(403, error('not_found', "Queue entry '3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f' not found"))
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
