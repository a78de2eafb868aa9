import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { InstanceAdminOnly } from '../auth/auth.decorators';
import { ApiErrors, error } from '../http/api-errors.decorator';
import { TAGS } from '../http/openapi/tags';
import { StoreBackup, type BackupResult } from './store-backup';
import { StoreCopy, type CopyJobView } from './store-copy';

export class BackupRequestDto {
  @ApiPropertyOptional({
    description: 'Where to write the backup, relative to the data directory (or absolute inside it); it must not exist yet. Default: backups/towline-<timestamp>.db',
    example: 'backups/before-upgrade.db',
  })
  @IsOptional() @IsString() @Length(1, 1000)
  path?: string;
}

class BackupResultDto implements BackupResult {
  @ApiProperty({ description: 'Absolute path of the verified backup file (mode 0600)' }) path: string;
  @ApiProperty({ description: 'Events in the backup' }) events: number;
  @ApiProperty({ description: 'Size of the backup file' }) bytes: number;
  @ApiProperty({ nullable: true, type: String, description: 'Position of the last event in the backup, null for an empty store' }) last_position: string | null;
}

export class CopyRequestDto {
  @ApiProperty({ description: 'The EventStoreDB node or cluster to copy to (esdb://, esdb+discover:// or kurrentdb://)', example: 'esdb://eventstore.internal:2113?tls=true' })
  @IsString() @Length(1, 2000)
  to: string;
}

class CopyMismatchDto {
  @ApiProperty() stream: string;
  @ApiProperty({ nullable: true, type: String }) revision: string | null;
  @ApiProperty({ description: 'missing_stream, missing_event, extra_events, revision, id, type, data, metadata, hash or chain' }) field: string;
  @ApiPropertyOptional() expected?: string;
  @ApiPropertyOptional() actual?: string;
}

class CopyReportDto {
  @ApiProperty() streams: number;
  @ApiProperty() events: number;
  @ApiProperty({ description: 'Every copied stream read back from the target matched the source, hashes and chains included' }) verified: boolean;
  @ApiProperty({ type: CopyMismatchDto, isArray: true, description: 'The first 100' }) mismatches: CopyMismatchDto[];
  @ApiProperty() mismatch_count: number;
}

class CopyProgressDto {
  @ApiProperty() events_scanned: number;
  @ApiProperty() streams_total: number;
  @ApiProperty() events_total: number;
  @ApiProperty() events_copied: number;
  @ApiProperty() streams_verified: number;
}

class CopyErrorDto {
  @ApiProperty({ example: 'copy_target_not_empty' }) code: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional() details?: unknown;
}

class CopyJobDto implements CopyJobView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['checking', 'copying', 'verifying', 'done', 'failed'] }) state: CopyJobView['state'];
  @ApiProperty({ description: 'The target, credentials left out' }) to: string;
  @ApiProperty({ format: 'date-time' }) started_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finished_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The head of the source when the job started: the copy goes up to it' }) last_position: string | null;
  @ApiProperty({ type: CopyProgressDto }) progress: CopyProgressDto;
  @ApiProperty({ type: CopyReportDto, nullable: true }) report: CopyReportDto | null;
  @ApiProperty({ type: CopyErrorDto, nullable: true }) error: CopyErrorDto | null;
}

/** The embedded store's operations: the whole store, across organisations, so instance admin only. */
@ApiTags(TAGS.operations.name)
@ApiBearerAuth()
@Controller('api/store')
export class StoreAdminController {
  constructor(
    private readonly backups: StoreBackup,
    private readonly copies: StoreCopy,
  ) {}

  @Post('backup')
  @HttpCode(201)
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'backupStore',
    summary: 'Write a consistent online backup of the embedded store into the data directory, and verify it',
    description: 'The server keeps taking writes meanwhile. On EventStoreDB: 409 backup_not_supported_on_eventstoredb (use its own backup).',
  })
  @ApiCreatedResponse({ type: BackupResultDto })
  @ApiErrors(
    400,
    'backup_path_outside_data_dir',
    'backup_path_reserved',
    error('forbidden', 'Only the instance admin key may do this'),
    'backup_in_progress',
    'backup_exists',
    'backup_not_supported_in_memory',
    'backup_not_supported_on_eventstoredb',
    'backup_verification_failed',
  )
  backup(@Body() body: BackupRequestDto): Promise<BackupResult> {
    return this.backups.backup(body.path);
  }

  @Post('copy')
  @HttpCode(202)
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'startStoreCopy',
    summary: 'Copy every event of the embedded store to an EventStoreDB node, then verify the copy',
    description: 'Answers at once with a job; GET /api/store/copy/{id} follows it. The target must not hold any of the streams.',
  })
  @ApiAcceptedResponse({ type: CopyJobDto })
  @ApiErrors(400, 'invalid_connection_string', error('forbidden', 'Only the instance admin key may do this'), 'copy_in_progress', 'copy_source_not_embedded', 'shutting_down')
  copy(@Body() body: CopyRequestDto): CopyJobView {
    return this.copies.start(body.to);
  }

  @Get('copy/:id')
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'getStoreCopy', summary: 'A copy job: its progress, then its report (or its error)' })
  @ApiOkResponse({ type: CopyJobDto })
  @ApiErrors(error('forbidden', 'Only the instance admin key may do this'), error('not_found', 'No copy job 3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f (jobs are kept in memory, the last 20, until a restart)'))
  copyJob(@Param('id') id: string): CopyJobView {
    return this.copies.get(id);
  }
}
