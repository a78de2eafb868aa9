import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AnsweredIncidentDto {
  @ApiProperty({ description: 'Position of the item in the payload' }) index: number;
  @ApiProperty() vendor_alert_id: string;
  @ApiProperty({ enum: ['trigger', 'resolve', 'acknowledge'] }) action: string;
  @ApiProperty({ enum: ['opened', 'attached', 'reopened', 'resolved', 'acknowledged', 'unchanged', 'unmatched'] }) result: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) incident_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'INC-2026-0001' }) incident_number: string | null;
}

export class WebhookAcceptedDto {
  @ApiProperty({ enum: ['accepted'] }) status: 'accepted';
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: no incident (a test event, or a resolve message that matched none)' })
  incident_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'INC-2026-0001' }) incident_number: string | null;
  @ApiPropertyOptional({ description: 'Only when there is no incident to name: why' }) message?: string;
  @ApiPropertyOptional({ type: AnsweredIncidentDto, isArray: true, description: 'Only for a batch (several items): every item, in payload order' })
  incidents?: AnsweredIncidentDto[];
}

export class WebhookQueuedDto {
  @ApiProperty({ enum: ['queued'] }) status: 'queued';
  @ApiProperty({ format: 'uuid', description: 'For GET /api/webhooks/queue/{queue_id}' }) queue_id: string;
  @ApiProperty({ example: 'Event queued for processing' }) message: string;
}

export class QueueEntryDto {
  @ApiProperty({ format: 'uuid' }) queue_id: string;
  @ApiProperty() source: string;
  @ApiProperty({ enum: ['queued', 'processed'] }) status: 'queued' | 'processed';
  @ApiProperty({ format: 'date-time' }) received_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) processed_at: string | null;
  @ApiProperty({ type: WebhookAcceptedDto, nullable: true, description: 'The answer a synchronous request would have had' })
  result: WebhookAcceptedDto | null;
}
