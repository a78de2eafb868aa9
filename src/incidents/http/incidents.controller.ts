import { applyDecorators, Body, Controller, Get, HttpCode, Inject, Param, Post, Query, type Type } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess, OrganisationQuery } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { contextOf, hydrate } from '../../cqrs/domain-event';
import { STORE_CONSUMER, type StoreConsumerOptions } from '../../cqrs/store-consumer';
import { ReadSideRunner } from '../../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '../../event-store/event-store.port';
import { StreamNotFound } from '../../event-store/event-store.errors';
import { ApiErrors, ErrorResponseDto } from '../../http/api-errors.decorator';
import { invalidRequest, notFound } from '../../http/app-error';
import { StartTriage, type StartTriageOutcome } from '../../triage/commands/triage.commands';
import { triageReport } from '../../triage/triage-report';
import { randomUUID } from 'node:crypto';
import { ChangeIncident } from '../commands/change-incident.command';
import type { ChangeOutcome } from '../commands/change-incident.handler';
import { incidentStream, type IncidentChange } from '../incident.aggregate';
import { INCIDENTS_PROJECTION, IncidentsProjection, type IncidentCursor, type IncidentView } from '../projections/incidents.projection';
import { SOURCE_STATS_PROJECTION, SourceStatsProjection } from '../projections/source-stats.projection';
import { SLA_PROJECTION, SlaProjection } from '../sla/sla.projection';
import {
  AssignIncidentDto,
  CloseIncidentDto,
  IncidentDetailDto,
  IncidentDto,
  IncidentPageDto,
  ListIncidentsQuery,
  ReopenIncidentDto,
  ResolveIncidentDto,
  SourceStatsDto,
  StatisticsQuery,
  TimelineEntryDto,
  TriageRerunDto,
  VerifyIncidentDto,
} from './incidents.dto';

/** A lifecycle change's outcomes: 409 is an invalid transition (details.current_state names the state) or a conflict. */
const ApiChangeErrors = () =>
  applyDecorators(
    ApiErrors(400, 401, 403, 404),
    ApiResponse({
      status: 409,
      type: ErrorResponseDto,
      description:
        'invalid_transition: the lifecycle does not allow this from the current state (message and details.current_state name it); ' +
        'conflict: the incident changed concurrently, retry',
    }),
  );

/**
 * The read models an answer comes from, by name, with the event classes each is fed: a change waits only for
 * those fed one of its events (a consumer never sees, so never passes, the position of an event it filters out).
 */
const ANSWERED_FROM: [string, Type][] = [
  [INCIDENTS_PROJECTION, IncidentsProjection],
  [SLA_PROJECTION, SlaProjection],
  [SOURCE_STATS_PROJECTION, SourceStatsProjection],
];

function feeding(events: readonly object[]): string[] {
  return ANSWERED_FROM.filter(([, projection]) => {
    const { events: fed } = Reflect.getMetadata(STORE_CONSUMER, projection) as StoreConsumerOptions;
    return events.some((event) => fed.some((type) => event instanceof type));
  }).map(([name]) => name);
}

/** The cursor is opaque to clients: base64url of the last incident's place in the order. */
function encodeCursor(cursor: IncidentCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string): IncidentCursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && Number.isInteger(value[1]) && Number.isInteger(value[2])) {
      return value as IncidentCursor;
    }
  } catch {
    // answered below
  }
  throw invalidRequest('cursor is not a cursor this API returned', [{ field: 'cursor', problems: ['is invalid'] }]);
}

/**
 * Incidents: list, read (with alerts, triage runs and the timeline of the incident's own events), and move
 * through the lifecycle (docs/incidents.md). `:incident` is the uuid or the number (INC-2026-0001), in any
 * case. Another organisation's incident answers 404, like an unknown one.
 */
@ApiTags('incidents')
@ApiBearerAuth()
@Controller('api/incidents')
export class IncidentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly incidents: IncidentsProjection,
    private readonly statistics: SourceStatsProjection,
    private readonly sla: SlaProjection,
    private readonly access: OrganisationAccess,
    private readonly readSide: ReadSideRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: "List the organisation's incidents, newest first, filtered and paged by cursor" })
  @ApiOkResponse({ type: IncidentPageDto })
  @ApiErrors(400, 401, 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListIncidentsQuery): IncidentPageDto {
    const organisation = this.access.scope(principal, query.organisation_id);
    const limit = query.limit ?? 50;
    const instant = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());
    const { items, last } = this.incidents.incidents(organisation.id, {
      status: query.status,
      severity: query.severity,
      source: query.source,
      projectId: query.project_id?.toLowerCase(),
      assignee: query.assignee,
      since: instant(query.since),
      until: instant(query.until),
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit,
    });
    return { items: items.map((i) => this.withSla(i)), next_cursor: last && items.length === limit ? encodeCursor(last) : null };
  }

  @Get('statistics')
  @RequireScope('read')
  @ApiOperation({ summary: 'Per-source statistics: counts by status, severity and verdict; mean times to acknowledge and resolve' })
  @ApiOkResponse({ type: SourceStatsDto, isArray: true })
  @ApiErrors(400, 401, 403, 404)
  stats(@CurrentPrincipal() principal: Principal, @Query() query: StatisticsQuery): SourceStatsDto[] {
    return this.statistics.stats(this.access.scope(principal, query.organisation_id).id, query.source);
  }

  @Get(':incident')
  @RequireScope('read')
  @ApiOperation({ summary: 'Get an incident by id or number (INC-2026-0001): its alerts, triage runs with every step, and timeline' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiErrors(400, 401, 403, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: OrganisationQuery): Promise<IncidentDetailDto> {
    return this.detail(this.find(principal, idOrNumber, query));
  }

  @Post(':incident/assign')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Assign the incident (assigning the current assignee again changes nothing)' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  assign(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: AssignIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'assign', assignee: body.assignee });
  }

  @Post(':incident/acknowledge')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Acknowledge: someone is on it (from open or needs_manual_triage); stops the time-to-acknowledge clock' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  acknowledge(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: OrganisationQuery): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'acknowledge' });
  }

  @Post(':incident/resolve')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Resolve: fixed (or mitigated, or the risk accepted); verify the fix later' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  resolve(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: ResolveIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'resolve', resolution: body.resolution, note: body.note ?? null });
  }

  @Post(':incident/verify')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Record the re-test of a resolution: passed → verified; failed → back to acknowledged' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  verify(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: VerifyIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'verify', passed: body.passed, note: body.note ?? null });
  }

  @Post(':incident/close')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Close without a fix: a false positive, benign, or a duplicate' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  close(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: CloseIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'close', reason: body.reason, note: body.note ?? null });
  }

  @Post(':incident/reopen')
  @HttpCode(200)
  @RequireScope('incidents:write')
  @ApiOperation({ summary: 'Reopen a resolved, verified or closed incident' })
  @ApiOkResponse({ type: IncidentDetailDto })
  @ApiChangeErrors()
  reopen(
    @CurrentPrincipal() principal: Principal,
    @Param('incident') idOrNumber: string,
    @Query() query: OrganisationQuery,
    @Body() body: ReopenIncidentDto,
  ): Promise<IncidentDetailDto> {
    return this.change(principal, idOrNumber, query, { action: 'reopen', note: body?.note ?? null });
  }

  @Post(':incident/triage')
  @HttpCode(202)
  @RequireScope('incidents:write')
  @ApiOperation({
    summary: "Run the incident's playbook again, as a new run (with the organisation's current settings); the run goes on in the background",
  })
  @ApiResponse({ status: 202, type: TriageRerunDto })
  @ApiErrors(401, 403, 404)
  async triage(@CurrentPrincipal() principal: Principal, @Param('incident') idOrNumber: string, @Query() query: OrganisationQuery): Promise<TriageRerunDto> {
    const incident = this.find(principal, idOrNumber, query);
    const outcome = await this.commands.execute<StartTriage, StartTriageOutcome>(new StartTriage(incident.id, `manual:${randomUUID()}`));
    return { incident_id: incident.id, incident_number: incident.number, run_id: outcome.started ? outcome.runId : null, status: outcome.reason };
  }

  private find(principal: Principal, idOrNumber: string, query: OrganisationQuery): IncidentView {
    const organisation = this.access.scope(principal, query.organisation_id);
    // Numbers are upper-case and ids lower-case; either is found whatever case it is typed in.
    const key = /^inc-/i.test(idOrNumber) ? idOrNumber.toUpperCase() : idOrNumber.toLowerCase();
    const incident = this.incidents.incident(organisation.id, key);
    if (!incident) throw notFound(`Incident '${idOrNumber}' not found`);
    return incident;
  }

  /** Executes the change and answers once the read models show it (read your writes). */
  private async change(principal: Principal, idOrNumber: string, query: OrganisationQuery, change: IncidentChange): Promise<IncidentDetailDto> {
    const incident = this.find(principal, idOrNumber, query);
    const { events, appended } = await this.commands.execute<ChangeIncident, ChangeOutcome>(new ChangeIncident(incident.id, change));
    if (appended) await this.readSide.catchUp(feeding(events), appended.position);
    return this.detail(this.incidents.incident(incident.organisation_id, incident.id)!);
  }

  private withSla(incident: IncidentView): IncidentDto {
    return { ...incident, sla: this.sla.sla(incident.id) ?? null, stale: this.readSide.isParked(incidentStream(incident.id)) };
  }

  /** Alerts from the read model; triage runs and the timeline straight from the incident's stream. */
  private async detail(incident: IncidentView): Promise<IncidentDetailDto> {
    const history = await this.history(incident.id);
    const timeline: TimelineEntryDto[] = history.map((recorded) => {
      const { revision, created, metadata } = contextOf(recorded);
      return { revision: Number(revision), type: recorded.type, at: created.toISOString(), actor: String(metadata.actor ?? 'system'), data: recorded.data };
    });
    const events = history.map(hydrate).filter((e) => e !== undefined);
    return { ...this.withSla(incident), alerts: this.incidents.alerts(incident.id), triage_runs: triageReport(events), timeline };
  }

  private async history(incidentId: string): Promise<RecordedEvent[]> {
    try {
      return await this.store.readStream(incidentStream(incidentId));
    } catch (error) {
      if (error instanceof StreamNotFound) return [];
      throw error;
    }
  }
}
