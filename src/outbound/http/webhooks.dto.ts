import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AsSent } from '../../http/request-validation';
import { SEVERITIES, SUBSCRIBABLE_EVENT_TYPES, type Severity } from '../catalog/event-catalog';
import { RATE_PERIODS, type RatePeriod } from '../webhook-rate-limit';
import { isWebhookSecret } from '../delivery/signing';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../events/webhook.events';
import { MAX_URL_LENGTH } from '../delivery/destination';
import { IsInstant, toInt } from './query-params';

/** For fields that may be left out but not set to null. */
const given = (_: object, value: unknown) => value !== undefined;
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;
const MAX_PROJECTS = 100;

const IsWebhookSecret = () =>
  ValidateBy({
    name: 'isWebhookSecret',
    validator: {
      validate: isWebhookSecret,
      defaultMessage: () => 'secret must be whsec_ followed by the base64 of 24 to 64 bytes, or a shared string of 16 to 512 printable characters',
    },
  });

const secretDoc = {
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  description:
    'whsec_ + base64 of 24–64 random bytes (Standard Webhooks), or any shared string of 16–512 characters (Standard Webhooks is then keyed by its UTF-8 bytes); generated (whsec_) and returned once when omitted',
};
const urlDoc = 'Stored sealed (it may be a credential: Slack, Teams workflows, Discord, a signed query); shown again only in display form';
const eventTypesDoc = {
  enum: SUBSCRIBABLE_EVENT_TYPES,
  isArray: true,
  nullable: true,
  description: "Only these types; null or absent: every seed type. Towline's operator notices (message.attempt.exhausted, endpoint.disabled) only when listed",
};
const rateLimitDoc = {
  type: () => RateLimitDto,
  nullable: true,
  description: 'At most `limit` attempts per `period` (evenly spaced), per Towline instance; null: unpaced; absent: the format default (slack and teams 1/second, others unpaced)',
};
const minSeverityDoc = {
  enum: SEVERITIES,
  nullable: true,
  description: 'Only events at least this severe; null: every severity; absent: the format default (slack and teams: high, others: every severity)',
};

export class RateLimitDto {
  @ApiProperty({ minimum: 1, maximum: 1000, example: 1 })
  @IsInt() @Min(1) @Max(1000)
  limit: number;

  @ApiProperty({ enum: RATE_PERIODS, example: 'second' })
  @IsIn(RATE_PERIODS)
  period: RatePeriod;
}
const projectIdsDoc = {
  type: String,
  format: 'uuid',
  isArray: true,
  nullable: true,
  description: 'Only events of these projects (events without a project then do not match); null or absent: every event',
};
const headersDoc = {
  type: 'object' as const,
  additionalProperties: { type: 'string' },
  example: { Authorization: 'Splunk 00000000-0000-0000-0000-000000000000' },
  description: 'Extra request headers (at most 20, 8 KiB); not hop-by-hop, Host, Content-*, User-Agent, X-Towline-*, webhook-* or the signature header. Stored sealed, never shown again',
};

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://siem.example.com/hooks/towline', maxLength: MAX_URL_LENGTH, description: urlDoc })
  @IsString() @MaxLength(MAX_URL_LENGTH)
  url: string;

  @ApiPropertyOptional(secretDoc)
  @ValidateIf(given) @IsWebhookSecret()
  secret?: string;

  @ApiPropertyOptional(eventTypesDoc)
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(SUBSCRIBABLE_EVENT_TYPES, { each: true })
  event_types?: string[] | null;

  @ApiPropertyOptional(projectIdsDoc)
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_PROJECTS) @ArrayUnique() @IsUUID('all', { each: true })
  project_ids?: string[] | null;

  // Request defaults are stated in words, not as `default`: generators read `default` as "always present" and
  // would make the field required (docs/api.md).
  @ApiPropertyOptional({ enum: WEBHOOK_FORMATS, description: 'The payload format; default envelope' })
  @ValidateIf(given) @IsIn(WEBHOOK_FORMATS)
  format?: WebhookFormat;

  @ApiPropertyOptional(headersDoc)
  @ValidateIf(given) @IsObject() @AsSent()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ description: 'Default true' })
  @ValidateIf(given) @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional(rateLimitDoc)
  @IsOptional() @ValidateNested() @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional(minSeverityDoc)
  @IsOptional() @IsIn(SEVERITIES)
  min_severity?: Severity | null;
}

/** Every field optional; null clears event_types, project_ids (back to "all") and description. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: MAX_URL_LENGTH, description: urlDoc })
  @ValidateIf(given) @IsString() @MaxLength(MAX_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional(eventTypesDoc)
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(SUBSCRIBABLE_EVENT_TYPES, { each: true })
  event_types?: string[] | null;

  @ApiPropertyOptional(projectIdsDoc)
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_PROJECTS) @ArrayUnique() @IsUUID('all', { each: true })
  project_ids?: string[] | null;

  @ApiPropertyOptional({ enum: WEBHOOK_FORMATS })
  @ValidateIf(given) @IsIn(WEBHOOK_FORMATS)
  format?: WebhookFormat;

  @ApiPropertyOptional({ ...headersDoc, description: 'Replaces all extra headers ({} removes them)' })
  @ValidateIf(given) @IsObject() @AsSent()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ description: 'true also re-enables a webhook Towline disabled (410 Gone, or failing continuously)' })
  @ValidateIf(given) @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional(rateLimitDoc)
  @IsOptional() @ValidateNested() @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional(minSeverityDoc)
  @IsOptional() @IsIn(SEVERITIES)
  min_severity?: Severity | null;
}

export class RotateWebhookSecretDto {
  @ApiPropertyOptional(secretDoc)
  @ValidateIf(given) @IsWebhookSecret()
  secret?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_PERIOD_SECONDS,
    description: 'How long the previous secrets keep signing beside the new one (default TW_WEBHOOK_SECRET_GRACE, 24 h); 0 stops them at once',
  })
  @ValidateIf(given) @IsInt() @Min(0) @Max(MAX_GRACE_PERIOD_SECONDS)
  grace_period_seconds?: number;
}

export class TestWebhookDto {
  @ApiPropertyOptional({ enum: SUBSCRIBABLE_EVENT_TYPES, description: "The example event of this type is sent (the catalog's example data); default finding.created" })
  @ValidateIf(given) @IsIn(SUBSCRIBABLE_EVENT_TYPES)
  event_type?: string;
}

export class RecoverDeliveriesDto {
  @ApiProperty({
    oneOf: [{ type: 'integer', description: 'unix seconds' }, { type: 'string', description: 'unix seconds or ISO 8601' }],
    description: 'Redeliver dead letters that failed from this time on: unix seconds (a number or a string) or ISO 8601',
    example: 1767225600,
  })
  @IsInstant()
  since: string | number;

  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string' }], description: 'And before this time (exclusive), in the same forms' })
  @ValidateIf(given) @IsInstant()
  until?: string | number;
}

export class WebhookSecretDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: the current secret' }) expires_at: string | null;
}

export class CircuitDto {
  @ApiProperty({ enum: ['closed', 'open', 'half_open'] }) state: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'While open: when a trial attempt is let through' })
  open_until: string | null;
}

export class WebhookHealthDto {
  @ApiProperty() attempts: number;
  @ApiProperty() successes: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Share of the last 100 attempts that succeeded' }) success_rate: number | null;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_attempt_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_success_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_failure_at: string | null;
  @ApiProperty({ type: Number, nullable: true }) last_status_code: number | null;
  @ApiProperty({ type: CircuitDto }) circuit: CircuitDto;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({
    example: 'https://hooks.slack.com/services/T000/B000/[redacted]?token=[redacted]',
    description: 'Display form: scheme, host, port and path; query values and the secret path segments of Slack, Teams and Discord URLs are [redacted]',
  })
  url: string;
  @ApiProperty({ enum: WEBHOOK_FORMATS }) format: string;
  @ApiProperty({ enum: SUBSCRIBABLE_EVENT_TYPES, isArray: true, nullable: true }) event_types: string[] | null;
  @ApiProperty({ type: String, isArray: true, nullable: true }) project_ids: string[] | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Names only: values are never shown', example: { Authorization: '[redacted]' } })
  headers: Record<string, string>;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true, enum: ['gone', 'failing'], description: 'Why Towline disabled it (gone: the receiver answered 410; failing: every attempt failed for TW_WEBHOOK_AUTO_DISABLE)' })
  disabled_reason: string | null;
  @ApiProperty({ type: RateLimitDto, nullable: true, description: 'The pace in effect (its own, or the format default); null: unpaced' })
  rate_limit: RateLimitDto | null;
  @ApiProperty({ enum: SEVERITIES, nullable: true, description: 'The minimum severity in effect (its own, or the format default); null: every severity' })
  min_severity: Severity | null;
  @ApiProperty({ type: WebhookSecretDto, isArray: true, description: 'The secrets that sign now, never their values; the current one last' })
  secrets: WebhookSecretDto[];
  @ApiProperty({ type: WebhookHealthDto }) health: WebhookHealthDto;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiPropertyOptional({ description: 'Only when Towline generated the secret: shown in this response only, store it now' })
  secret?: string;
}

export class RotatedWebhookSecretDto {
  @ApiProperty({ format: 'uuid' }) secret_id: string;
  @ApiPropertyOptional({ description: 'Only when Towline generated the secret: shown in this response only' }) secret?: string;
  @ApiProperty({ format: 'date-time', description: 'When the previous secrets stop signing' }) previous_secrets_expire_at: string;
  @ApiProperty({ type: WebhookSecretDto, isArray: true }) secrets: WebhookSecretDto[];
}

export class AttemptResponseDto {
  @ApiProperty({ type: Number, nullable: true, description: 'null: no answer (see error_class)' }) status: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Selected headers' }) headers: Record<string, string>;
  @ApiProperty({ type: String, nullable: true, description: 'The first 4 KiB of the body' }) body: string | null;
  @ApiProperty() body_truncated: boolean;
}

export class AttemptDto {
  @ApiProperty() attempt: number;
  @ApiProperty() succeeded: boolean;
  @ApiProperty({ format: 'date-time' }) started_at: string;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ example: 'sha256:3f…', description: 'SHA-256 of the exact body sent' }) request_digest: string;
  @ApiProperty({ type: String, isArray: true, description: 'Ids of the secrets it was signed with' }) secret_ids: string[];
  @ApiProperty({ type: AttemptResponseDto }) response: AttemptResponseDto;
  @ApiProperty({ type: String, nullable: true, example: 'server_error' }) error_class: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export class WebhookTestResultDto {
  @ApiProperty({ format: 'uuid', description: 'Sent as X-Towline-Delivery and webhook-id' }) test_id: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ type: AttemptDto }) result: AttemptDto;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'uuidv5 of (event id, webhook id); sent as X-Towline-Delivery and webhook-id on every attempt' })
  id: string;
  @ApiProperty({ format: 'uuid' }) webhook_id: string;
  @ApiProperty({ format: 'uuid' }) event_id: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ type: String, nullable: true }) project_id: string | null;
  @ApiProperty({ enum: ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'], description: 'failed: a dead letter' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) next_attempt_at: string | null;
  @ApiProperty({ type: Number, nullable: true }) last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'retries_exhausted, not_retryable, webhook_deleted, webhook_disabled' })
  failure_reason: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finished_at: string | null;
}

export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({ type: AttemptDto, isArray: true }) attempt_log: AttemptDto[];
}

export class DeliveryPageDto {
  @ApiProperty({ type: DeliveryDto, isArray: true, description: 'Newest first' }) items: DeliveryDto[];
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'] })
  @IsOptional() @IsIn(['pending', 'retrying', 'succeeded', 'failed', 'cancelled'])
  status?: 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(64)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class RecoveredDto {
  @ApiProperty({ type: String, isArray: true, description: 'The dead letters put back in the queue' }) delivery_ids: string[];
}

/** `?as_of=` on a webhook or a delivery: time travel (docs/audit.md). */
export class AsOfQuery {
  @ApiPropertyOptional({
    description: 'As it stood at this ISO 8601 time (with its offset) or log position (`<commit>/<prepare>`), rebuilt from its own stream',
    example: '2026-01-01T12:00:00Z',
  })
  @IsOptional() @IsString() @MaxLength(64)
  as_of?: string;
}
