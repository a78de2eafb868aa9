import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { OrganisationQuery } from '../../inbound/http/organisation-scope';
import { SEVERITIES, VENDOR_FORMATS } from '../../inbound/normalizers';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

export class ListIncidentsQuery extends OrganisationQuery {
  @ApiPropertyOptional({ enum: ['open', 'resolved'] })
  @IsOptional() @IsIn(['open', 'resolved'])
  status?: 'open' | 'resolved';

  @ApiPropertyOptional({ description: 'Only incidents of this webhook source' })
  @IsOptional() @IsString()
  source?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  offset?: number;
}

export class IndicatorsDto {
  @ApiProperty({ type: String, isArray: true }) emails: string[];
  @ApiProperty({ type: String, isArray: true }) urls: string[];
  @ApiProperty({ type: String, isArray: true }) domains: string[];
  @ApiProperty({ type: String, isArray: true }) ips: string[];
  @ApiProperty({ type: String, isArray: true }) hashes: string[];
}

export class IncidentDto {
  @ApiProperty({ format: 'uuid', description: 'Derived from (organisation, source, vendor_alert_id): the dedup key' }) id: string;
  @ApiProperty({ example: 'INC-2026-0001', description: 'Per organisation and year, gap-free' }) number: string;
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) project_id: string | null;
  @ApiProperty({ example: 'email-gateway' }) source: string;
  @ApiProperty() vendor_alert_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: SEVERITIES, description: 'The highest severity of its triggering alerts' }) severity: string;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiProperty({ enum: ['open', 'resolved'] }) status: string;
  @ApiProperty() auto_triage: boolean;
  @ApiProperty({ nullable: true, type: String }) playbook: string | null;
  @ApiProperty({ description: 'Alerts attached, the first one included' }) alert_count: number;
  @ApiProperty({ description: 'Times a repeat reopened it after it was resolved' }) regression_count: number;
  @ApiProperty({ format: 'date-time' }) opened_at: string;
  @ApiProperty({ format: 'date-time' }) last_seen_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolved_at: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) reopened_at: string | null;
}

export class IncidentAlertDto {
  @ApiProperty({ description: '<receipt id>:<item index>' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The received webhook (stream alert-<receipt id>)' }) receipt_id: string;
  @ApiProperty({ description: 'Position of the item in a batched payload' }) index: number;
  @ApiProperty({ enum: ['trigger', 'resolve', 'acknowledge'] }) action: string;
  @ApiProperty({ format: 'date-time' }) received_at: string;
  @ApiProperty({ enum: [...VENDOR_FORMATS, 'unknown'] }) vendor: string;
  @ApiProperty() vendor_alert_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: SEVERITIES }) severity: string;
  @ApiProperty({ nullable: true, type: String }) raw_severity: string | null;
  @ApiProperty({ format: 'date-time' }) occurred_at: string;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiPropertyOptional() host?: string;
  @ApiPropertyOptional() user?: string;
  @ApiProperty({ type: IndicatorsDto }) indicators: IndicatorsDto;
  @ApiProperty({ enum: ['vendor', 'fallback'] }) normalization: string;
}

export class IncidentDetailDto extends IncidentDto {
  @ApiProperty({ type: IncidentAlertDto, isArray: true, description: 'Oldest first' }) alerts: IncidentAlertDto[];
}
