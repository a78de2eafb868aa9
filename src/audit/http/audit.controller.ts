import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { CurrentPrincipal, InstanceAdminOnly, RequireScope } from '../../auth/auth.decorators';
import type { Principal } from '../../auth/principal';
import { ApiErrors, error } from '../../http/api-errors.decorator';
import { TAGS } from '../../http/openapi/tags';
import { invalidRequest } from '../../http/app-error';
import { AuditJobs } from '../audit-jobs';
import { AuditReader, positionFromCursor } from '../audit-reader.service';
import { AuditReplay } from '../audit-replay.service';
import type { AuditRecord } from '../audit-record';
import { AuditScope } from '../audit-scope';
import { AuditTrace } from '../audit-trace.service';
import { AuditVerifier } from '../audit-verifier.service';
import { AUDIT_SIGNING_KEY, LedgerCheckpoints } from '../ledger-checkpoints.service';
import { ledgerStream } from '../events/ledger.events';
import type { AuditSigningKey } from '../signing-key';
import {
  AllEventsQuery,
  AuditRecordDto,
  CheckpointsDto,
  JobDto,
  PublicKeyDto,
  RecordPageDto,
  StreamEventsQuery,
  StreamPageDto,
  StreamsQuery,
  TraceDto,
  VerificationDto,
  VerifyDto,
} from './audit.dto';

const NDJSON = 'application/x-ndjson';
/**
 * A page as JSON, or every record as NDJSON: one AuditRecordDto per line (OpenAPI 3.1 has no per-line schema, so
 * the schema is that of a line). Only the 200 has the two forms; errors are always JSON (not @ApiProduces, which
 * gave every status both).
 */
const PAGE_OR_NDJSON = {
  description: 'A page (application/json), or with `Accept: application/x-ndjson` every record, one AuditRecordDto per line',
  content: {
    'application/json': { schema: { $ref: getSchemaPath(RecordPageDto) } },
    [NDJSON]: { schema: { $ref: getSchemaPath(AuditRecordDto) } },
  },
};
const wantsNdjson = (request: FastifyRequest) => (request.headers.accept ?? '').split(',').some((part) => part.trim().split(';')[0] === NDJSON);

/** Records as NDJSON, one line each, pulled page by page as the socket drains: flat memory, whatever the size. */
function sendNdjson(reply: FastifyReply, pages: AsyncIterable<AuditRecord[]>): void {
  async function* lines() {
    for await (const page of pages) yield page.map((record) => JSON.stringify(record) + '\n').join('');
  }
  void reply.header('content-type', `${NDJSON}; charset=utf-8`).send(Readable.from(lines(), { objectMode: false, highWaterMark: 1 }));
}

async function* batched(records: AsyncIterable<AuditRecord>, size = 500): AsyncGenerator<AuditRecord[]> {
  let batch: AuditRecord[] = [];
  for await (const record of records) {
    batch.push(record);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The log as a product for auditors (scope `audit:read`): streams, events, the whole log (JSON pages or NDJSON),
 * verification, signed ledger checkpoints and their public key. An organisation's key sees its organisation's
 * streams only; the instance's own streams are the instance admin's.
 */
@ApiTags(TAGS.audit.name)
@ApiBearerAuth()
@ApiExtraModels(RecordPageDto, AuditRecordDto)
@Controller('api/audit')
export class AuditController {
  constructor(
    private readonly reader: AuditReader,
    private readonly scope: AuditScope,
    private readonly verifier: AuditVerifier,
    private readonly jobs: AuditJobs,
    private readonly checkpoints: LedgerCheckpoints,
    private readonly replays: AuditReplay,
    private readonly traces: AuditTrace,
    @Inject(AUDIT_SIGNING_KEY) private readonly key: AuditSigningKey,
  ) {}

  @Get('streams')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'listAuditStreams', summary: 'Streams with their head (revision, hash), by name' })
  @ApiOkResponse({ type: StreamPageDto })
  @ApiErrors(400, error('forbidden', "This API key lacks the 'audit:read' scope"))
  streams(@CurrentPrincipal() principal: Principal, @Query() query: StreamsQuery): StreamPageDto {
    return this.reader.streams(principal, query.prefix ?? '', query.cursor, query.limit ?? 100);
  }

  @Get('streams/:stream')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'getAuditStream', summary: 'A stream’s events, as a page (JSON) or all of them (Accept: application/x-ndjson)' })
  @ApiOkResponse(PAGE_OR_NDJSON)
  @ApiErrors(400, error('forbidden', "This API key lacks the 'audit:read' scope"), error('not_found', "Stream 'incident-3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f' not found"))
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Param('stream') stream: string,
    @Query() query: StreamEventsQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.scope.requireStream(principal, stream);
    const direction = query.direction ?? 'forwards';
    if (wantsNdjson(request)) return sendNdjson(reply, batched(this.reader.streamRecords(stream, query.from, direction)));
    void reply.send(await this.reader.streamPage(stream, query.from, query.limit ?? 100, direction));
  }

  @Get('all')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'listAuditEvents', summary: 'The whole log in order (an organisation’s key: its events), as pages or NDJSON up to the head' })
  @ApiOkResponse(PAGE_OR_NDJSON)
  @ApiErrors(400, error('forbidden', "This API key lacks the 'audit:read' scope"))
  async all(@CurrentPrincipal() principal: Principal, @Query() query: AllEventsQuery, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const from = query.from === undefined ? undefined : positionFromCursor(query.from);
    const since = query.since === undefined ? undefined : new Date(query.since);
    if (wantsNdjson(request)) {
      const head = await this.reader.headPosition();
      if (head) void reply.header('x-towline-head-position', `${head.commit}/${head.prepare}`);
      return sendNdjson(reply, this.reader.allRecords(principal, from, since));
    }
    void reply.send(await this.reader.allPage(principal, from, query.limit ?? 100, since));
  }

  @Post('verify')
  @HttpCode(200)
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'verifyAudit', summary: 'Verify one stream (200, at once) or every stream the key may read ({all: true}: 202, a job)' })
  @ApiOkResponse({ type: VerificationDto })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiErrors(400, error('invalid_request', 'Give either stream or all, not both'), error('forbidden', "This API key lacks the 'audit:read' scope"), error('not_found', "Stream 'incident-3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f' not found"))
  async verify(@CurrentPrincipal() principal: Principal, @Body() body: VerifyDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<VerificationDto | JobDto> {
    if (body.stream !== undefined && body.all !== undefined) throw invalidRequest('Give either stream or all, not both');
    if (body.stream !== undefined) return this.verifier.verifyStream(principal, body.stream);
    void reply.status(202);
    return this.jobs.start('verify', principal, (progress) => this.verifier.verifyAll(principal, progress));
  }

  @Get('verify/:id')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'getAuditVerification', summary: 'A verification job: its progress, then its result' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'audit:read' scope"), error('not_found', "No verify job '3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f'"))
  verification(@CurrentPrincipal() principal: Principal, @Param('id') id: string): JobDto {
    return this.jobs.get(principal, id, 'verify');
  }

  @Post('checkpoints')
  @HttpCode(201)
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'createAuditCheckpoint', summary: 'Take a ledger checkpoint now: the signed head of every stream changed since the last one' })
  @ApiCreatedResponse({ type: CheckpointsDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'audit:read' scope"), 'conflict')
  async checkpoint(@CurrentPrincipal() principal: Principal): Promise<CheckpointsDto> {
    const taken = await this.checkpoints.take();
    const own = principal.kind === 'admin' ? undefined : ledgerStream(principal.organisationId);
    return { checkpoints: taken.filter((c) => own === undefined || c.ledger === own) };
  }

  @Post('replay')
  @HttpCode(202)
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'startAuditReplay',
    summary: 'Rebuild every projection from position zero into a scratch store and compare it with the live read models (a job)',
  })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiErrors(error('forbidden', 'Only the instance admin key may do this'))
  replay(@CurrentPrincipal() principal: Principal): JobDto {
    return this.jobs.start('replay', principal, (progress) => this.replays.run(progress));
  }

  @Get('replay/:id')
  @InstanceAdminOnly()
  @ApiOperation({ operationId: 'getAuditReplay', summary: 'A replay job: its progress, then {projections: [{name, rows, equal, sample_diffs}]}' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(error('forbidden', 'Only the instance admin key may do this'), error('not_found', "No replay job '3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f'"))
  replayJob(@CurrentPrincipal() principal: Principal, @Param('id') id: string): JobDto {
    return this.jobs.get(principal, id, 'replay');
  }

  @Get('trace/:correlationId')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'getAuditTrace', summary: 'The causal chain of a correlation id: receipt → incident → triage → security events → deliveries → attempts' })
  @ApiOkResponse({ type: TraceDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'audit:read' scope"), error('not_found', "No events with correlation id 'req-1'"))
  trace(@CurrentPrincipal() principal: Principal, @Param('correlationId') correlationId: string): Promise<TraceDto> {
    return this.traces.ofCorrelation(principal, correlationId);
  }

  @Get('public-key')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'getAuditPublicKey', summary: 'The Ed25519 public key ledger checkpoints are signed with (pin it where you verify)' })
  @ApiOkResponse({ type: PublicKeyDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'audit:read' scope"))
  publicKey(): PublicKeyDto {
    return { algorithm: 'Ed25519', key_id: this.key.keyId, public_key: this.key.publicKeyBase64, pem: this.key.pem };
  }
}

/** An incident's trace, beside the incident itself (the logic is audit's: the incidents capability stays thin). */
@ApiTags(TAGS.audit.name)
@ApiBearerAuth()
@Controller('api/incidents')
export class IncidentTraceController {
  constructor(private readonly traces: AuditTrace) {}

  @Get(':id/trace')
  @RequireScope('audit:read')
  @ApiOperation({ operationId: 'getIncidentTrace', summary: 'The causal chain behind an incident, from every webhook receipt to every delivery attempt' })
  @ApiOkResponse({ type: TraceDto })
  @ApiErrors(error('forbidden', "This API key lacks the 'audit:read' scope"), error('not_found', "Incident 'INC-2026-0001' not found"))
  trace(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TraceDto> {
    return this.traces.ofIncident(principal, id.toLowerCase());
  }
}
