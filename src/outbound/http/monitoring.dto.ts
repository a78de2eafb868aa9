import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class PauseMonitoringDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 1000, example: 'Maintenance window' })
  @IsOptional() @IsString() @MaxLength(1000)
  reason?: string | null;
}

export class MonitoringDto {
  @ApiProperty({ format: 'uuid' }) project_id: string;
  @ApiProperty() paused: boolean;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it was last paused or resumed' }) since: string | null;
}
