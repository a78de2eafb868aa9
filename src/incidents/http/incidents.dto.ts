import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { OrganisationQuery } from '../../auth/organisation-access';
import { SEVERITIES, VENDOR_FORMATS } from '../../contracts/alert';
import { VERDICTS } from '../../triage/events/triage.events';
import { CLOSE_REASONS, INCIDENT_STATUSES, RESOLUTIONS, type CloseReason, type IncidentStatus, type Resolution } from '../events/incident.events';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class ListIncidentsQuery extends OrganisationQuery {
  @ApiPropertyOptional({ enum: INCIDENT_STATUSES })
  @IsOptional() @IsIn(INCIDENT_STATUSES)
  status?: IncidentStatus;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional() @IsIn(SEVERITIES)
  severity?: (typeof SEVERITIES)[number];

  @ApiPropertyOptional({ description: 'Only incidents of this webhook source' })
  @IsOptional() @IsString()
  source?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  project_id?: string;

  @ApiPropertyOptional({ description: 'Only incidents assigned to this assignee' })
  @IsOptional() @IsString()
  assignee?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Opened at or after this instant' })
  @IsOptional() @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Opened before this instant' })
  @IsOptional() @IsISO8601({ strict: true })
  until?: string;

  @ApiPropertyOptional({ description: "The previous page's next_cursor" })
  @IsOptional() @IsString() @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class IncidentDetailQuery extends OrganisationQuery {
  @ApiPropertyOptional({
    description: 'Time travel: the incident as it stood at this ISO 8601 time (with its offset) or log position (`<commit>/<prepare>`, e.g. a Towline-Consistency token)',
    example: '2026-01-01T12:00:00Z',
  })
  @IsOptional() @IsString() @MaxLength(64)
  as_of?: string;
}

export class StatisticsQuery extends OrganisationQuery {
  @ApiPropertyOptional({ description: 'Only this webhook source' })
  @IsOptional() @IsString()
  source?: string;
}

export class IndicatorsDto {
  @ApiProperty({ type: String, isArray: true }) emails: string[];
  @ApiProperty({ type: String, isArray: true }) urls: string[];
  @ApiProperty({ type: String, isArray: true }) domains: string[];
  @ApiProperty({ type: String, isArray: true }) ips: string[];
  @ApiProperty({ type: String, isArray: true }) hashes: string[];
}

export class SlaClockDto {
  @ApiProperty({ description: 'The target for this severity (TW_SLA_TARGETS)' }) target_seconds: number;
  @ApiProperty({ format: 'date-time' }) due_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the clock stopped in time' }) met_at: string | null;
  @ApiProperty() breached: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) breached_at: string | null;
}

export class SlaDto {
  @ApiProperty({ type: SlaClockDto, description: 'Until the first response: acknowledged, resolved or closed' }) acknowledge: SlaClockDto;
  @ApiProperty({ type: SlaClockDto, description: 'Until the first resolution or closure' }) resolve: SlaClockDto;
}

export class IncidentDto {
  @ApiProperty({ format: 'uuid', description: 'Derived from (organisation, source, vendor_alert_id): the dedup key' }) id: string;
  @ApiProperty({ example: 'INC-2026-0001', description: 'Per organisation and year, gap-free' }) number: string;
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) project_id: string | null;
  @ApiProperty({ example: 'email-gateway' }) source: string;
  @ApiProperty() vendor_alert_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: SEVERITIES, description: 'The highest severity of its triggering alerts, or what triage set' }) severity: string;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiProperty({ enum: INCIDENT_STATUSES, description: 'See the lifecycle in docs/incidents.md' }) status: string;
  @ApiProperty({ nullable: true, type: String }) assignee: string | null;
  @ApiProperty() auto_triage: boolean;
  @ApiProperty({ nullable: true, type: String }) playbook: string | null;
  @ApiProperty({ enum: ['running', 'completed', 'needs_manual', 'skipped'], nullable: true, type: String, description: 'Of the latest triage run' })
  triage_status: string | null;
  @ApiProperty({ enum: VERDICTS, nullable: true, type: String }) verdict: string | null;
  @ApiProperty({ nullable: true, type: Number, description: '0–100' }) triage_score: number | null;
  @ApiProperty({ description: 'Alerts attached, the first one included' }) alert_count: number;
  @ApiProperty({ description: 'Times a repeat reopened it after it was resolved' }) regression_count: number;
  @ApiProperty({ description: 'Incidents in its group (a campaign or duplicates) when triage folded others into it; 1 otherwise' })
  related_count: number;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The incident triage folded this one into' }) duplicate_of: string | null;
  @ApiProperty({ format: 'date-time' }) opened_at: string;
  @ApiProperty({ format: 'date-time' }) last_seen_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) acknowledged_at: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolved_at: string | null;
  @ApiProperty({ enum: RESOLUTIONS, nullable: true, type: String }) resolution: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) verified_at: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) closed_at: string | null;
  @ApiProperty({ enum: CLOSE_REASONS, nullable: true, type: String }) close_reason: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) reopened_at: string | null;
  @ApiProperty({ type: SlaDto, nullable: true }) sla: SlaDto | null;
  @ApiProperty({
    description:
      'true while an event of this incident is parked by the read side (it failed to apply; GET /api/read-side/parked): ' +
      'what is shown may be behind its stream, which the timeline shows as recorded',
  })
  stale: boolean;
}

export class IncidentPageDto {
  @ApiProperty({ type: IncidentDto, isArray: true, description: 'Newest first' }) items: IncidentDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as ?cursor= for the next page; null on the last page' }) next_cursor: string | null;
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

export class TriageGroupDto {
  @ApiProperty({ format: 'uuid' }) incidentId: string;
  @ApiProperty() number: string;
  @ApiProperty({ enum: ['campaign', 'duplicate'] }) kind: string;
  @ApiProperty({ example: 'sender:billing@paypa1.com' }) key: string;
}

export class TriageStepDto {
  @ApiProperty({ example: 'lookalike' }) step: string;
  @ApiProperty({ example: 'lookalike_found' }) outcome: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) evidence: Record<string, unknown>;
  @ApiProperty({ description: 'SHA-256 of the canonical JSON (RFC 8785) of the step input' }) input_digest: string;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ format: 'date-time' }) completed_at: string;
}

export class TriageFailureDto {
  @ApiProperty() step: string;
  @ApiProperty() attempt: number;
  @ApiProperty() error: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'null after the last attempt' }) retry_at: string | null;
  @ApiProperty({ format: 'date-time' }) failed_at: string;
}

export class TriageRunDto {
  @ApiProperty({ format: 'uuid' }) run_id: string;
  @ApiProperty({ example: 'phishing_triage' }) playbook: string;
  @ApiProperty({ example: 'opened', description: 'opened, alert:<alert id> or linked:<incident id>' }) trigger: string;
  @ApiProperty({ enum: ['pending', 'running', 'completed', 'failed', 'skipped'] }) status: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) started_at: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ enum: VERDICTS, nullable: true, type: String }) verdict: string | null;
  @ApiProperty({ nullable: true, type: Number }) score: number | null;
  @ApiProperty({ type: String, isArray: true }) reasons: string[];
  @ApiProperty({ enum: SEVERITIES, nullable: true, type: String }) severity: string | null;
  @ApiProperty() escalated: boolean;
  @ApiProperty({ type: TriageGroupDto, nullable: true }) grouped_into: TriageGroupDto | null;
  @ApiProperty({ enum: ['monitoring_paused', 'unknown_playbook'], nullable: true, type: String }) skipped_reason: string | null;
  @ApiProperty({ type: TriageStepDto, isArray: true, description: 'Completed steps, in order' }) steps: TriageStepDto[];
  @ApiProperty({ type: TriageFailureDto, isArray: true }) failures: TriageFailureDto[];
}

export class TimelineEntryDto {
  @ApiProperty({ description: 'Revision in the incident stream (incident-<id>)' }) revision: number;
  @ApiProperty({ example: 'IncidentAcknowledged' }) type: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'api-key:4f1c…', description: 'admin, api-key:<id>, source:<name> or system:<component>' }) actor: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class IncidentDetailDto extends IncidentDto {
  @ApiProperty({ type: IncidentAlertDto, isArray: true, description: 'Oldest first' }) alerts: IncidentAlertDto[];
  @ApiProperty({ type: TriageRunDto, isArray: true, description: 'Oldest first' }) triage_runs: TriageRunDto[];
  @ApiProperty({ type: TimelineEntryDto, isArray: true, description: "The incident's own events, oldest first" }) timeline: TimelineEntryDto[];
}

export class SourceStatsDto {
  @ApiProperty() source: string;
  @ApiProperty() total: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { open: 3, closed: 1 } }) by_status: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) by_severity: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'untriaged: no verdict yet' }) by_verdict: Record<string, number>;
  @ApiProperty({ nullable: true, type: Number }) mean_time_to_acknowledge_seconds: number | null;
  @ApiProperty({ nullable: true, type: Number }) mean_time_to_resolve_seconds: number | null;
}

const NOTE = { maxLength: 2000, description: 'Free text, kept on the incident stream' };

export class AssignIncidentDto {
  @ApiProperty({ example: 'soc-tier2', description: 'A person or team, as your SOC names them' })
  @Transform(trimmed) @IsString() @Length(1, 200)
  assignee: string;
}

export class ResolveIncidentDto {
  @ApiProperty({ enum: RESOLUTIONS })
  @IsIn(RESOLUTIONS)
  resolution: Resolution;

  @ApiPropertyOptional(NOTE)
  @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class VerifyIncidentDto {
  @ApiProperty({ description: 'true: the re-test shows the fix works; false: it does not (back to acknowledged)' })
  @IsBoolean()
  passed: boolean;

  @ApiPropertyOptional(NOTE)
  @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class CloseIncidentDto {
  @ApiProperty({ enum: CLOSE_REASONS })
  @IsIn(CLOSE_REASONS)
  reason: CloseReason;

  @ApiPropertyOptional(NOTE)
  @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class ReopenIncidentDto {
  @ApiPropertyOptional(NOTE)
  @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class TriageRerunDto {
  @ApiProperty({ format: 'uuid' }) incident_id: string;
  @ApiProperty({ example: 'INC-2026-0001' }) incident_number: string;
  @ApiProperty({ nullable: true, type: String, description: 'The new run (in the incident\'s triage_runs once it starts), null when none was started' })
  run_id: string | null;
  @ApiProperty({
    enum: ['started', 'run_pending', 'skipped', 'not_applicable', 'already_started'],
    description: 'started; run_pending: a run waiting to start will judge the same facts; skipped: recorded as skipped (monitoring paused, or the playbook is unknown)',
  })
  status: string;
}
