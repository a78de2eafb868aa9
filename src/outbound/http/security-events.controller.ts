import { Body, Controller, Get, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, RequireScope } from '../../auth/auth.decorators';
import { OrganisationAccess } from '../../auth/organisation-access';
import type { Principal } from '../../auth/principal';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import type { JsonObject } from '../../event-store/event-store.port';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { notFound } from '../../http/app-error';
import { RecordSecurityEvent } from '../commands/security-event.commands';
import type { RecordedSecurityEvent } from '../commands/security-event.handlers';
import { derivedEventId } from '../ids';
import { SecurityEventsProjection } from '../projections/security-events.projection';
import { Idempotent } from './idempotent.decorator';
import { EventPageDto, ListEventsQuery, PublishEventDto, SecurityEventDto } from './security-events.dto';
import { decodeCursor, encodeCursor, instantMs } from './query-params';

@ApiTags(TAGS.securityEvents.name)
@ApiBearerAuth()
@Controller('api/organisations/:orgId/events')
export class SecurityEventsController {
  constructor(
    private readonly commands: ReadYourWrites,
    private readonly events: SecurityEventsProjection,
    private readonly access: OrganisationAccess,
  ) {}

  @Post()
  @Idempotent()
  @RequireScope('events:write')
  @ApiOperation({ operationId: 'publishSecurityEvent', summary: "Publish a security event of any catalogued type: recorded in the organisation's log, then delivered" })
  @ApiCreatedResponse({ type: SecurityEventDto, description: 'The envelope as it is delivered' })
  @ApiErrors('invalid_event', 400, error('forbidden', "This API key lacks the 'events:write' scope"), 404, 'conflict')
  async publish(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId') orgId: string,
    @Body() body: PublishEventDto,
    @Req() request: FastifyRequest,
  ): Promise<SecurityEventDto> {
    const organisation = this.access.resolve(principal, orgId);
    const { envelope } = await this.commands.execute<RecordedSecurityEvent>(
      new RecordSecurityEvent(
        {
          event_type: body.event_type,
          organisation_id: organisation.id,
          project_id: body.project_id?.toLowerCase() ?? null,
          data: body.data as JsonObject,
          severity: body.severity,
          title: body.title,
          description: body.description,
          category: body.category,
          owasp_category: body.owasp_category,
        },
        'api',
        // Under an Idempotency-Key the id follows from the key: a retry after a crash finds the event it made.
        request.idempotencyId ? derivedEventId('api', request.idempotencyId) : randomUUID(),
      ),
    );
    return envelope;
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ operationId: 'listSecurityEvents', summary: "The organisation's security-event log, oldest first, filtered and paged by cursor" })
  @ApiOkResponse({ type: EventPageDto })
  @ApiErrors(400, 403, 404)
  list(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Query() query: ListEventsQuery): EventPageDto {
    const organisation = this.access.resolve(principal, orgId);
    const limit = query.limit ?? 100;
    const { items, last } = this.events.list(organisation.id, {
      type: query.type,
      projectId: query.project_id?.toLowerCase(),
      since: query.since === undefined ? undefined : Math.ceil(instantMs(query.since) / 1000),
      until: query.until === undefined ? undefined : Math.ceil(instantMs(query.until) / 1000),
      after: decodeCursor(query.cursor) ?? 0,
      limit,
    });
    return { items, next_cursor: last !== null && items.length === limit ? encodeCursor(last) : null };
  }

  @Get(':eventId')
  @RequireScope('read')
  @ApiOperation({ operationId: 'getSecurityEvent', summary: 'One security event' })
  @ApiOkResponse({ type: SecurityEventDto })
  @ApiErrors(403, error('not_found', 'Security event not found'))
  get(@CurrentPrincipal() principal: Principal, @Param('orgId') orgId: string, @Param('eventId') eventId: string): SecurityEventDto {
    const organisation = this.access.resolve(principal, orgId);
    const event = this.events.event(organisation.id, eventId.toLowerCase());
    if (!event) throw notFound('Security event not found');
    return event;
  }
}
