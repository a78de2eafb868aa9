import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { AuditJobs } from './audit-jobs';
import { AuditReader } from './audit-reader.service';
import { AuditReplay } from './audit-replay.service';
import { AuditScope } from './audit-scope';
import { AuditVerifier } from './audit-verifier.service';
import { AuditController, IncidentTraceController } from './http/audit.controller';
import { AuditTrace } from './audit-trace.service';
import { AUDIT_SIGNING_KEY, LedgerCheckpoints } from './ledger-checkpoints.service';
import { AuditStreamsProjection } from './projections/audit-streams.projection';
import { AuditSigningKey } from './signing-key';

/** Auditors' capability: read, export, verify, checkpoint, trace and replay the log (docs/audit.md). */
@Module({
  controllers: [AuditController, IncidentTraceController],
  providers: [
    {
      provide: AUDIT_SIGNING_KEY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const { key, generated } = AuditSigningKey.resolve(config.audit.signingKey, config.dataDir);
        if (generated) {
          new Logger('Audit').warn(`TW_AUDIT_SIGNING_KEY is not set: generated the ledger signing key in ${generated} (mode 0600); key id ${key.keyId}. Back it up.`);
        }
        return key;
      },
    },
    AuditStreamsProjection,
    AuditScope,
    AuditReader,
    AuditVerifier,
    AuditJobs,
    LedgerCheckpoints,
    AuditReplay,
    AuditTrace,
  ],
})
export class AuditModule {}
