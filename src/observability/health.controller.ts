import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { TAGS } from '../http/openapi/tags';
import { Health, type Readiness } from './health';

class ConsumerHealthDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['projection', 'reactor'] }) kind: string;
  @ApiProperty({ enum: ['catching_up', 'rebuilding', 'live', 'stopped'] }) state: string;
  @ApiProperty({ nullable: true, type: String, description: 'The log has been seen up to here' }) position: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Events of its types read but not handled yet; null while far behind' })
  lag: number | null;
  @ApiProperty({ description: 'Events parked: failed for good, or waiting behind such a failure in the same partition' }) parked: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Busy without finishing a batch since then' })
  stalled_since: string | null;
}

class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded', 'unavailable'], description: 'degraded: events are parked, or a consumer is behind or stuck' })
  status: string;
  @ApiProperty({ enum: ['sqlite', 'eventstoredb'] }) event_store: string;
  @ApiProperty({ enum: ['ok', 'unavailable'] }) store: string;
  @ApiProperty({ description: 'Events parked by all consumers (GET /api/read-side/parked lists them)' }) parked: number;
  @ApiProperty({ type: ConsumerHealthDto, isArray: true }) consumers: ConsumerHealthDto[];
}

class LiveDto {
  @ApiProperty({ enum: ['live'] }) status: string;
}

class ParkedCountDto {
  @ApiProperty() consumer: string;
  @ApiProperty() count: number;
}

class ReadyDto {
  @ApiProperty({ enum: ['ready', 'not_ready'] }) status: string;
  @ApiProperty({ type: String, isArray: true, description: 'Why not ready: the store, or a consumer behind, stuck or rebuilding' })
  reasons: string[];
  @ApiProperty({ type: ParkedCountDto, isArray: true, description: 'Parked events by consumer: reported, never a reason for 503' })
  parked: ParkedCountDto[];
  @ApiProperty({ type: ConsumerHealthDto, isArray: true }) consumers: ConsumerHealthDto[];
}

const toDto = (readiness: Readiness) => readiness.consumers.map(({ stalledSince, ...c }) => ({
  ...c,
  stalled_since: stalledSince === null ? null : new Date(stalledSince).toISOString(),
}));

/**
 * Three views for three callers: `/health/live` for a process supervisor (restart me only if I stop
 * answering), `/health/ready` for a load balancer (send me traffic only when the store answers and my read
 * models are current), `/health` for people. Parked events make `/health` degraded and are listed by
 * `/health/ready`, but never make it 503: one poison alert must not drain every instance from the balancer.
 */
@ApiTags(TAGS.health.name)
@Controller('health')
export class HealthController {
  constructor(private readonly health: Health) {}

  @Get()
  @Public()
  @ApiOperation({ operationId: 'getHealth', summary: 'Store, read side and parked events at a glance (503 only when the store does not answer)' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The store does not answer (status unavailable)' })
  async overview(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    const readiness = await this.health.check();
    if (!readiness.storeOk) void reply.status(503);
    const parked = readiness.parked.reduce((sum, p) => sum + p.count, 0);
    return {
      status: !readiness.storeOk ? 'unavailable' : parked > 0 || readiness.reasons.length > 0 ? 'degraded' : 'ok',
      event_store: readiness.eventStore,
      store: readiness.storeOk ? 'ok' : 'unavailable',
      parked,
      consumers: toDto(readiness),
    };
  }

  @Get('live')
  @Public()
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'live' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({ operationId: 'getReadiness',
    summary: 'Readiness: the store answers and every read-side consumer is live, within the lag bound and not stuck (503 with the reasons otherwise)',
  })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: ReadyDto, description: 'Not ready: `reasons` says why' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadyDto> {
    const readiness = await this.health.check();
    if (readiness.reasons.length > 0) void reply.status(503);
    return {
      status: readiness.reasons.length > 0 ? 'not_ready' : 'ready',
      reasons: readiness.reasons,
      parked: readiness.parked,
      consumers: toDto(readiness),
    };
  }
}
