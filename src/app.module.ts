import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AuditModule } from './audit/audit.module';
import { AuthGuard } from './auth/auth.guard';
import type { AppConfig } from './config/config';
import type { SecretBox } from './config/secret-box';
import { CoreModule } from './core.module';
import { invalidRequest } from './http/app-error';
import { ErrorFilter } from './http/error.filter';
import { RequestContextInterceptor } from './auth/request-context.interceptor';
import { RequestValidationPipe } from './http/request-validation';
import { InboundModule } from './inbound/inbound.module';
import { IncidentsModule } from './incidents/incidents.module';
import { ObservabilityModule } from './observability/observability.module';
import { StoreAdminModule } from './store-admin/store-admin.module';
import { OrganisationsModule } from './organisations/organisations.module';
import { OutboundModule } from './outbound/outbound.module';
import { TriageModule } from './triage/triage.module';

/**
 * Request validation: unknown fields are refused (not silently dropped), types are not coerced, and the
 * failing fields are listed in `details`. Keys named constructor or prototype are refused too (request-validation.ts).
 */
const validation = new RequestValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  exceptionFactory: (errors) => {
    const details = errors.map((e) => ({ field: e.property, problems: Object.values(e.constraints ?? { invalid: 'is invalid' }) }));
    return invalidRequest(details.flatMap((d) => d.problems).join('; ') || 'Invalid request body', details);
  },
});

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, secretBox: SecretBox, dataDirLock?: { release(): void }): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, secretBox, dataDirLock), OrganisationsModule, IncidentsModule, InboundModule, ObservabilityModule, OutboundModule, TriageModule, AuditModule, StoreAdminModule],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useValue: validation },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
      ],
    };
  }
}
