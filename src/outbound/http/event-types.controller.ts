import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TAGS } from '../../http/openapi/tags';
import { EVENT_TYPES } from '../catalog/event-catalog';
import { EventTypeDto } from './security-events.dto';

@ApiTags(TAGS.eventTypes.name)
@ApiBearerAuth()
@Controller('api/event-types')
export class EventTypesController {
  @Get()
  @ApiOperation({ operationId: 'listEventTypes', summary: 'The catalog of security event types, each with the JSON Schema of its data (any valid key)' })
  @ApiOkResponse({ type: EventTypeDto, isArray: true })
  list(): EventTypeDto[] {
    return EVENT_TYPES.map(({ type, description, category, severity, schema, example }) => ({
      type,
      description,
      category,
      severity: severity.rule === 'derived' ? { rule: 'derived', description: severity.description } : { rule: severity.rule, value: severity.value },
      schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema },
      example,
    }));
  }
}
