import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { Equals, IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value);
export const POSITION = /^\d{1,19}(\/\d{1,19})?$/;

export class StreamsQuery {
  @ApiPropertyOptional({ description: 'Only streams whose name starts with this, e.g. `incident-`' })
  @IsOptional() @IsString() @Length(0, 500)
  prefix?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional() @IsString() @Length(1, 2000) @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor from a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class StreamEventsQuery {
  @ApiPropertyOptional({ description: 'First revision to return (inclusive); default the start (forwards) or the end (backwards)' })
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  from?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (JSON only; NDJSON returns everything)' })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ enum: ['forwards', 'backwards'], default: 'forwards' })
  @IsOptional() @IsIn(['forwards', 'backwards'])
  direction?: 'forwards' | 'backwards';
}

export class AllEventsQuery {
  @ApiPropertyOptional({ description: 'Events strictly after this log position (`commit/prepare`, or a next_cursor)', example: '1200/1200' })
  @IsOptional() @IsString() @Matches(POSITION, { message: 'from must be a log position such as 1200/1200' })
  from?: string;

  @ApiPropertyOptional({ description: 'Only events recorded at or after this time (ISO 8601); their prev still anchors them' })
  @IsOptional() @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (JSON only; NDJSON returns everything)' })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class VerifyDto {
  @ApiPropertyOptional({ description: 'One stream, verified at once (200)' })
  @ValidateIf((dto: VerifyDto) => dto.all === undefined || dto.stream !== undefined)
  @IsString() @Length(1, 1000)
  stream?: string;

  @ApiPropertyOptional({ description: 'true: every stream the key may read, as a job (202)' })
  @ValidateIf((dto: VerifyDto) => dto.stream === undefined)
  @IsBoolean() @Equals(true)
  all?: boolean;
}

export class AuditRecordDto {
  @ApiProperty() stream: string;
  @ApiProperty() revision: number;
  @ApiProperty({ description: 'Place in the whole log (`commit/prepare`)' }) position: string;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() type: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Includes `hash`, `data_hash`, `organisationId`, `$correlationId`, `$causationId`, `actor`' })
  metadata: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ nullable: true, type: String, description: 'Hash of the previous event of the stream (64 zeros at revision 0); null if it is missing' })
  prev: string | null;
}

export class RecordPageDto {
  @ApiProperty({ type: AuditRecordDto, isArray: true }) items: AuditRecordDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class StreamSummaryDto {
  @ApiProperty() stream: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: an instance-level stream' }) organisation_id: string | null;
  @ApiProperty({ description: 'Revision of the last event' }) revision: number;
  @ApiProperty({ description: 'Hash of the last event' }) hash: string;
  @ApiProperty() position: string;
  @ApiProperty({ format: 'date-time' }) updated: string;
}

export class StreamPageDto {
  @ApiProperty({ type: StreamSummaryDto, isArray: true }) items: StreamSummaryDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class ChainBreakDto {
  @ApiProperty() stream: string;
  @ApiProperty({ nullable: true, type: Number }) revision: number | null;
  @ApiProperty({
    enum: ['data_changed', 'metadata_changed', 'content_changed', 'deleted', 'inserted', 'swapped', 'reordered', 'truncated', 'stream_missing', 'checkpoint_mismatch', 'checkpoint_missing', 'signature_invalid'],
  })
  kind: string;
  @ApiProperty() detail: string;
}

export class CheckpointSummaryDto {
  @ApiProperty() ledger: string;
  @ApiProperty() sequence: number;
  @ApiProperty() to: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty() key_id: string;
  @ApiProperty({ enum: ['pinned', 'embedded', 'server'] }) key: string;
}

export class VerificationDto {
  @ApiProperty() streams_checked: number;
  @ApiProperty() events_checked: number;
  @ApiProperty() ok: boolean;
  @ApiProperty({ type: CheckpointSummaryDto, nullable: true }) checkpoint: CheckpointSummaryDto | null;
  @ApiProperty({ type: CheckpointSummaryDto, isArray: true }) checkpoints: CheckpointSummaryDto[];
  @ApiProperty({ type: ChainBreakDto, isArray: true }) breaks: ChainBreakDto[];
}

class JobProgressDto {
  @ApiProperty() events: number;
  @ApiProperty({ nullable: true, type: String }) position: string | null;
  @ApiProperty({ nullable: true, type: String }) head: string | null;
}

export class JobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['verify', 'replay'] }) kind: string;
  @ApiProperty({ enum: ['running', 'done', 'failed'] }) state: string;
  @ApiProperty({ format: 'date-time' }) started_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finished_at: string | null;
  @ApiProperty({ type: JobProgressDto }) progress: JobProgressDto;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'verify: a Verification; replay: {projections}' })
  result: unknown;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

export class CheckpointTakenDto {
  @ApiProperty() ledger: string;
  @ApiProperty({ nullable: true, type: String }) organisation_id: string | null;
  @ApiProperty() sequence: number;
  @ApiProperty({ nullable: true, type: String }) from: string | null;
  @ApiProperty() to: string;
  @ApiProperty({ description: 'Streams recorded' }) streams: number;
  @ApiProperty() key_id: string;
  @ApiProperty({ description: 'base64 Ed25519 signature of JCS(data without signature)' }) signature: string;
  @ApiProperty() position: string;
}

export class CheckpointsDto {
  @ApiProperty({ type: CheckpointTakenDto, isArray: true, description: 'Checkpoints this pass made (none if nothing changed)' })
  checkpoints: CheckpointTakenDto[];
}

export class PublicKeyDto {
  @ApiProperty({ enum: ['Ed25519'] }) algorithm: string;
  @ApiProperty() key_id: string;
  @ApiProperty({ description: 'Raw 32-byte public key, base64' }) public_key: string;
  @ApiProperty({ description: 'SubjectPublicKeyInfo PEM' }) pem: string;
}

class TraceEventDto {
  @ApiProperty({ enum: ['receipt', 'incident', 'triage', 'security_event', 'delivery', 'attempt', 'other'] }) stage: string;
  @ApiProperty() position: string;
  @ApiProperty() stream: string;
  @ApiProperty() revision: number;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() type: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ nullable: true, type: String }) correlation_id: string | null;
  @ApiProperty({ nullable: true, type: String }) causation_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The event of this trace that caused this one' }) caused_by: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class TraceDto {
  @ApiProperty() correlation_id: string;
  @ApiProperty({ type: TraceEventDto, isArray: true }) events: TraceEventDto[];
}
