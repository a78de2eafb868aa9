import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadSideRunner } from '../cqrs/read-side.runner';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port';

class ConsumerHealthDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['catching_up', 'live', 'restarting', 'stopped'] }) state: string;
  @ApiProperty({ nullable: true, type: String, description: 'Last position handled' }) position: string | null;
  @ApiProperty() failures: number;
}

class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status: string;
  @ApiProperty({ enum: ['sqlite', 'eventstoredb'] }) event_store: string;
  @ApiProperty({ enum: ['ok', 'unavailable'] }) store: string;
  @ApiProperty({ type: ConsumerHealthDto, isArray: true }) consumers: ConsumerHealthDto[];
}

const PING_TIMEOUT_MS = 2_000;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readSide: ReadSideRunner,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness plus event-store readiness (503 when the store does not answer)' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthDto> {
    const storeOk = await Promise.race([
      this.store.ping().then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, PING_TIMEOUT_MS, false).unref()),
    ]);
    if (!storeOk) void reply.status(503);
    return {
      status: storeOk ? 'ok' : 'unavailable',
      event_store: this.config.eventStore.kind,
      store: storeOk ? 'ok' : 'unavailable',
      consumers: this.readSide.status(),
    };
  }
}
