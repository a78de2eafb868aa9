import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { SEVERITIES } from '../normalizers';
import { SOURCE_NAME } from '../source.aggregate';
import {
  DEDUP_FIELD,
  IsSeverityMapping,
  MAX_SOURCE_RATE_LIMIT,
  MAX_GRACE_PERIOD_SECONDS,
  PLAYBOOK,
  SECRET_MAX_LENGTH,
  SECRET_MIN_LENGTH,
  SOURCE_FORMATS,
  SOURCE_MODES,
  type SettingsInput,
} from '../source-settings';

/** For fields that may be left out but not set to null (IsOptional would let null through). */
const given = (_: object, value: unknown) => value !== undefined;
const secretDoc = { minLength: SECRET_MIN_LENGTH, maxLength: SECRET_MAX_LENGTH };

/** The settings fields, shared by registration and update; on update, null clears a nullable field. */
export class SourceSettingsDto implements SettingsInput {
  @ApiPropertyOptional({ description: 'Run the playbook on incidents from this source (default false)' })
  @ValidateIf(given) @IsBoolean()
  auto_triage?: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, pattern: PLAYBOOK.source, example: 'phishing_triage' })
  @IsOptional() @IsString() @Matches(PLAYBOOK, { message: 'playbook must be 1–64 lower-case letters, digits or _' })
  playbook?: string | null;

  // Request defaults are stated in words, not as `default`: generators read `default` as "always present" and
  // would make the field required (docs/api.md). On update a left-out field is unchanged anyway.
  @ApiPropertyOptional({ enum: SOURCE_FORMATS, description: 'Vendor payload format; auto (the default at registration) detects it per request' })
  @ValidateIf(given) @IsIn(SOURCE_FORMATS)
  format?: (typeof SOURCE_FORMATS)[number];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...SEVERITIES] },
    nullable: true,
    example: { critical: 'critical', high: 'high', '4': 'high' },
    description: "Vendor severity value (case-insensitive) → Towline severity, applied before the vendor's own mapping",
  })
  @IsOptional() @IsSeverityMapping()
  severity_mapping?: Record<string, (typeof SEVERITIES)[number]> | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: "One of the organisation's projects" })
  @IsOptional() @IsUUID()
  project_id?: string | null;

  @ApiPropertyOptional({ enum: SOURCE_MODES, description: 'sync (the default at registration) or async: every request is answered 202 queued and processed in the background' })
  @ValidateIf(given) @IsIn(SOURCE_MODES)
  mode?: (typeof SOURCE_MODES)[number];

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_SOURCE_RATE_LIMIT,
    description: 'Requests per TW_RATE_LIMIT_WINDOW (default 1m) this source may send, counted per instance; 0: no limit; null: the instance default TW_WEBHOOK_RATE_LIMIT',
  })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_SOURCE_RATE_LIMIT)
  rate_limit?: number | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    pattern: DEDUP_FIELD.source,
    example: 'user',
    description: "Splunk: the result field whose value, with the saved search's name, is the dedup key (default the result's host)",
  })
  @IsOptional() @IsString() @Matches(DEDUP_FIELD, { message: 'dedup_field must be a field name: 1–100 letters, digits, _ . : or -' })
  dedup_field?: string | null;
}

export class RegisterSourceDto extends SourceSettingsDto {
  @ApiProperty({ example: 'email-gateway', pattern: SOURCE_NAME.source, description: 'Unique across the instance: it is the receiving URL' })
  @IsString() @Matches(SOURCE_NAME, { message: 'source must be 1–63 lower-case letters, digits, ., _ or -, starting with a letter or digit, and not `queue` (reserved)' })
  source: string;

  @ApiPropertyOptional({ ...secretDoc, description: 'HMAC signing secret; when omitted one is generated and returned once' })
  @ValidateIf(given) @IsString() @Length(SECRET_MIN_LENGTH, SECRET_MAX_LENGTH)
  secret?: string;

  @ApiPropertyOptional({ description: 'Instance admin only: the organisation (uuid or `default`); default: `default`' })
  @IsOptional() @IsString()
  organisation_id?: string;
}

export class UpdateSourceDto extends SourceSettingsDto {}

export class RotateSecretDto {
  @ApiPropertyOptional({ ...secretDoc, description: 'The new secret; when omitted one is generated and returned once' })
  @ValidateIf(given) @IsString() @Length(SECRET_MIN_LENGTH, SECRET_MAX_LENGTH)
  secret?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_PERIOD_SECONDS,
    description: 'How long the previous secrets keep verifying; default 86400 (24 h); 0: they stop at once',
  })
  @ValidateIf(given) @IsInt() @Min(0) @Max(MAX_GRACE_PERIOD_SECONDS)
  grace_period_seconds?: number;
}

export class SourceSecretDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'null: the current secret' }) expires_at: string | null;
}

export class SourceDto {
  @ApiProperty({ example: 'email-gateway' }) source: string;
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({ example: '/api/webhooks/email-gateway', description: 'Where the sending tool posts its signed alerts' }) webhook_path: string;
  @ApiProperty() auto_triage: boolean;
  @ApiProperty({ type: String, nullable: true }) playbook: string | null;
  @ApiProperty({ enum: SOURCE_FORMATS }) format: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', enum: [...SEVERITIES] } }) severity_mapping: Record<string, string>;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) project_id: string | null;
  @ApiProperty({ enum: SOURCE_MODES }) mode: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Requests per TW_RATE_LIMIT_WINDOW; 0: no limit; null: the instance default' })
  rate_limit: number | null;
  @ApiProperty({ type: String, nullable: true, description: "Splunk: the result field in the dedup key instead of the host; null: the host" })
  dedup_field: string | null;
  @ApiProperty({ enum: ['api', 'config'], description: 'config: declared in the TW_CONFIG file, and changed only there' }) managed_by: string;
  @ApiProperty({ type: SourceSecretDto, isArray: true, description: 'The secrets that verify now, never their values; the current one last' })
  secrets: SourceSecretDto[];
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class RegisteredSourceDto extends SourceDto {
  @ApiPropertyOptional({ description: 'Only when Towline generated the secret: shown in this response only, store it now' })
  secret?: string;
}

export class RotatedSecretDto {
  @ApiProperty({ format: 'uuid' }) secret_id: string;
  @ApiPropertyOptional({ description: 'Only when Towline generated the secret: shown in this response only' }) secret?: string;
  @ApiProperty({ format: 'date-time', description: 'When the previous secrets stop verifying' }) previous_secrets_expire_at: string;
  @ApiProperty({ type: SourceSecretDto, isArray: true }) secrets: SourceSecretDto[];
}

export class TestEventHeadersDto {
  @ApiProperty({ name: 'X-Webhook-Signature', example: 'sha256=8ad00c4e…' }) 'X-Webhook-Signature': string;
  @ApiProperty({ name: 'X-Webhook-Timestamp', example: '1705320000' }) 'X-Webhook-Timestamp': string;
  @ApiProperty({ name: 'Content-Type', example: 'application/json' }) 'Content-Type': string;
}

export class TestEventDto {
  @ApiProperty({ description: 'The exact bytes to post (a JSON text with event_type "test")' }) body: string;
  @ApiProperty({ type: TestEventHeadersDto, description: 'Valid for five minutes' }) headers: TestEventHeadersDto;
}

/** GET /api/webhooks/:source/rejected: an authenticated request refused for its content. */
export class RejectedWebhookDto {
  @ApiProperty({ format: 'date-time' }) received_at: string;
  @ApiProperty({ type: String, nullable: true, description: 'The X-Request-Id the refusal was answered with' }) request_id: string | null;
  @ApiProperty({ example: 'invalid_payload' }) code: string;
  @ApiProperty({ example: 'Payload must be a JSON object or a non-empty array of objects, not null' }) message: string;
  @ApiProperty({ type: String, nullable: true }) content_type: string | null;
  @ApiProperty({ description: 'Bytes' }) size: number;
  @ApiProperty() body_sha256: string;
  @ApiProperty({ description: 'The start of the body (2,048 characters), as text, or base64 when the body is not UTF-8' }) body_excerpt: string;
  @ApiProperty({ enum: ['utf8', 'base64'] }) body_encoding: string;
  @ApiProperty() body_truncated: boolean;
}
