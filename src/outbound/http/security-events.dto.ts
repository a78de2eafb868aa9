import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { AsSent } from '../../http/request-validation';
import { EVENT_TYPE_NAMES, SEVERITIES, type Severity } from '../catalog/event-catalog';
import { IsInstant, toInt } from './query-params';

/** For fields that may be left out but not set to null. */
const given = (_: object, value: unknown) => value !== undefined;

export class PublishEventDto {
  @ApiProperty({ enum: EVENT_TYPE_NAMES, example: 'finding.created' })
  @IsString()
  event_type: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: "One of the organisation's projects; null or absent: none" })
  @IsOptional() @IsUUID()
  project_id?: string | null;

  @ApiPropertyOptional({ enum: SEVERITIES, description: 'Only where the type leaves it open (see GET /api/event-types)' })
  @ValidateIf(given) @IsIn(SEVERITIES)
  severity?: Severity;

  @ApiPropertyOptional({ maxLength: 300, description: "Default: the type's title for this data" })
  @ValidateIf(given) @IsString() @Length(1, 300)
  title?: string;

  @ApiPropertyOptional({ maxLength: 4000, description: 'Default: the title, with the OWASP category appended when there is one' })
  @ValidateIf(given) @IsString() @Length(1, 4000)
  description?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'prompt_injection' })
  @IsOptional() @IsString() @MaxLength(100)
  category?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 32, example: 'LLM01' })
  @IsOptional() @IsString() @MaxLength(32)
  owasp_category?: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "Validated against the type's JSON Schema" })
  @IsObject() @AsSent()
  data: Record<string, unknown>;
}

export class SecurityEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: EVENT_TYPE_NAMES }) event_type: string;
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) project_id: string | null;
  @ApiProperty({ description: 'Unix seconds', example: 1707840000 }) timestamp: number;
  @ApiProperty({ enum: SEVERITIES }) severity: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: String, nullable: true }) category: string | null;
  @ApiProperty({ type: String, nullable: true }) owasp_category: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class ListEventsQuery {
  @ApiPropertyOptional({ enum: EVENT_TYPE_NAMES })
  @IsOptional() @IsIn(EVENT_TYPE_NAMES)
  type?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  project_id?: string;

  @ApiPropertyOptional({ description: 'From this time on (inclusive): unix seconds or ISO 8601' })
  @IsOptional() @IsInstant()
  since?: string;

  @ApiPropertyOptional({ description: 'Before this time (exclusive): unix seconds or ISO 8601' })
  @IsOptional() @IsInstant()
  until?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(64)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class EventPageDto {
  @ApiProperty({ type: SecurityEventDto, isArray: true, description: 'In log order, oldest first' }) items: SecurityEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page so far' })
  next_cursor: string | null;
}

export class SeverityRuleDto {
  @ApiProperty({ enum: ['fixed', 'derived', 'default'] }) rule: string;
  @ApiPropertyOptional({ enum: SEVERITIES }) value?: string;
  @ApiPropertyOptional() description?: string;
}

export class EventTypeDto {
  @ApiProperty({ example: 'finding.created' }) type: string;
  @ApiProperty() description: string;
  @ApiProperty({ description: "The envelope's category when the producer gives none" }) category: string;
  @ApiProperty({ type: SeverityRuleDto }) severity: SeverityRuleDto;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of `data`' }) schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'A valid `data`' }) example: Record<string, unknown>;
}
