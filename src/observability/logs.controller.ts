import { Controller, Get, Query } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { InstanceAdminOnly } from '../auth/auth.decorators';
import { ApiErrors, error } from '../http/api-errors.decorator';
import { TAGS } from '../http/openapi/tags';
import { LOG_WINDOW } from './log-buffer';
import { logBufferOf } from './logger';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

export class LogsQuery {
  @ApiPropertyOptional({ description: 'Only records whose JSON line contains this text, case-insensitive (like grep -i)', example: 'webhook' })
  @IsOptional() @IsString() @Length(1, 200)
  filter?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: LOG_WINDOW, default: 100 })
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(LOG_WINDOW)
  tail?: number;
}

@ApiTags(TAGS.operations.name)
@ApiBearerAuth()
@Controller('api/logs')
export class LogsController {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  @Get()
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'listLogs',
    summary: `Recent log records of this instance (the last ${LOG_WINDOW} in memory), oldest first: what \`tw-cli logs\` prints`,
    description: 'Records of every organisation, hence instance admin only. Keys, secrets and signatures are never logged.',
  })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object', additionalProperties: true } } })
  @ApiErrors(400, error('forbidden', 'Only the instance admin key may do this'))
  logs(@Query() query: LogsQuery): Record<string, unknown>[] {
    const logger = (this.adapterHost.httpAdapter.getInstance() as FastifyInstance).log as Logger;
    return logBufferOf(logger)?.tail(query.tail ?? 100, query.filter) ?? [];
  }
}
