import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { InstanceAdminOnly } from '../auth/auth.decorators';
import { ReadSideRunner, type RetryOutcome } from '../cqrs/read-side.runner';
import { encodePosition } from '../event-store/event-store.port';
import { ApiErrors, error } from '../http/api-errors.decorator';
import { TAGS } from '../http/openapi/tags';
import { notFound } from '../http/app-error';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

export class ParkedQuery {
  @ApiPropertyOptional({ description: 'Only this consumer’s parked events (a name from GET /health)', example: 'incident-list' })
  @IsOptional() @IsString() @Length(1, 100)
  consumer?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class RetryParkedDto {
  @ApiProperty({ description: 'The consumer whose parked events to handle again', example: 'incident-list' })
  @IsString() @Length(1, 100)
  consumer: string;

  @ApiPropertyOptional({ description: 'Only this partition (e.g. incident-…); default every partition the consumer parked' })
  @IsOptional() @IsString() @Length(1, 500)
  partition?: string;
}

class ParkedEventDto {
  @ApiProperty() consumer: string;
  @ApiProperty({ description: 'What the event touches; later events of the same partition wait behind a failure' }) partition: string;
  @ApiProperty({ enum: ['failed', 'waiting'], description: 'failed: it failed after its retries; waiting: held back behind one that did' })
  status: string;
  @ApiProperty() position: string;
  @ApiProperty({ format: 'uuid' }) event_id: string;
  @ApiProperty() stream: string;
  @ApiProperty() revision: number;
  @ApiProperty() type: string;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() attempts: number;
  @ApiProperty({ format: 'date-time' }) parked_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) retried_at: string | null;
}

class RetryOutcomeDto {
  @ApiProperty() consumer: string;
  @ApiProperty() partition: string;
  @ApiProperty({ description: 'Parked events handled by this retry' }) handled: number;
  @ApiProperty({ description: 'Still parked: the first failed again, and those behind it' }) still_parked: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

const toOutcome = ({ stillParked, ...outcome }: RetryOutcome): RetryOutcomeDto => ({ ...outcome, still_parked: stillParked });

/** Parked events of the read side: the instance's own derived state, across organisations, so instance admin only. */
@ApiTags(TAGS.operations.name)
@ApiBearerAuth()
@Controller('api/read-side/parked')
export class ReadSideController {
  constructor(private readonly readSide: ReadSideRunner) {}

  @Get()
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'listParkedEvents', summary: 'Events the read side parked (failed after retries, or waiting behind one), oldest first' })
  @ApiOkResponse({ type: ParkedEventDto, isArray: true })
  @ApiErrors(400, error('forbidden', 'Only the instance admin key may do this'), error('not_found', "No read-side consumer named 'incident-lists'"))
  list(@Query() query: ParkedQuery): ParkedEventDto[] {
    this.known(query.consumer);
    return this.readSide.parkedEvents(query.consumer ?? null, query.limit ?? 100).map((p) => ({
      consumer: p.consumer,
      partition: p.partition,
      status: p.status,
      position: encodePosition(p.position),
      event_id: p.eventId,
      stream: p.stream,
      revision: Number(p.revision),
      type: p.type,
      error: p.error,
      attempts: p.attempts,
      parked_at: p.parkedAt,
      retried_at: p.retriedAt,
    }));
  }

  @Post('retry')
  @HttpCode(200)
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'retryParkedEvents',
    summary: 'Handle a consumer’s parked events again, in log order per partition, once the cause is fixed',
    description: 'A partition is released when all its parked events are handled; the first that fails again stops that partition.',
  })
  @ApiOkResponse({ type: RetryOutcomeDto, isArray: true })
  @ApiErrors(400, error('forbidden', 'Only the instance admin key may do this'), error('not_found', "No read-side consumer named 'incident-lists'"))
  async retry(@Body() body: RetryParkedDto): Promise<RetryOutcomeDto[]> {
    this.known(body.consumer);
    return (await this.readSide.retryParked(body.consumer, body.partition ?? null)).map(toOutcome);
  }

  private known(consumer: string | undefined): void {
    if (consumer !== undefined && !this.readSide.consumerNames().includes(consumer)) throw notFound(`No read-side consumer named '${consumer}'`);
  }
}
