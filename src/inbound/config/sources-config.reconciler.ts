import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../config/config';
import { ConfigFile } from '../../config/config-file';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { hydrate } from '../../cqrs/domain-event';
import { runWithContext } from '../../cqrs/request-context';
import { ReadYourWrites } from '../../cqrs/read-your-writes';
import { StreamNotFound } from '../../event-store/event-store.errors';
import { EVENT_STORE, type EventStore, type ExpectedRevision } from '../../event-store/event-store.port';
import { AppError } from '../../http/app-error';
import { TENANCY, type Tenancy } from '../../contracts/tenancy';
import { RegisterSource, RemoveSource, RotateSourceSecret, UpdateSource } from '../commands/source.commands';
import { WebhookConfigApplied } from '../events/webhook-config.events';
import { Source, sourceStream } from '../source.aggregate';
import { openSourceSecret } from '../source-secrets';
import { DEFAULT_GRACE_PERIOD_SECONDS, newSettings } from '../source-settings';
import { parseSourcesSection, type SourceDeclaration } from './sources-config';

export const webhookConfigStream = (organisationId: string) => `webhookConfig-${organisationId}`;

/**
 * Makes the default organisation's sources match the configuration file at every start, writing only real
 * changes: a restart with the same file appends nothing. Compared with the sources' own streams (not a
 * read model), and secrets by opening the sealed ones (sealing is randomised, so ciphertexts never match).
 * A changed secret is a rotation with the usual grace period, so senders can switch over without errors;
 * a source the file no longer declares is removed; one registered through the API under a name the file
 * now declares is taken over by the file.
 *
 * The file is read and checked while the application initialises (a mistake stops the boot before anything
 * is written); it is applied when the server starts listening (Fastify's onReady), because only then is the
 * instance — and so the default organisation — initialised.
 */
@Injectable()
export class SourcesConfigReconciler implements OnModuleInit {
  private readonly logger = new Logger('WebhookConfig');

  constructor(
    private readonly file: ConfigFile,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly adapterHost: HttpAdapterHost,
    private readonly commands: CommandBus,
    private readonly aggregates: AggregateStore,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  onModuleInit(): void {
    const document = this.file.document();
    if (!document) return;
    for (const warning of document.warnings) this.logger.warn(warning);
    const declared = parseSourcesSection(document);
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onReady', async () => {
      const id = randomUUID();
      await runWithContext({ correlationId: id, causationId: id, actor: 'config' }, () => this.reconcile(declared));
    });
  }

  async reconcile(declared: SourceDeclaration[]): Promise<void> {
    const organisationId = this.tenancy.defaultOrganisationId;
    if (!organisationId) throw new Error('The instance must be initialised before the configuration file is applied');
    // Answered (the server starts listening) only once the sources read model shows the file.
    const { written } = await this.readYourWrites.collect(async () => {
      for (const source of declared) await this.apply(organisationId, source);

      const names = declared.map((s) => s.name).sort();
      const applied = await this.lastApplied(organisationId);
      for (const name of applied.sources.filter((n) => !names.includes(n))) {
        const { state } = await this.aggregates.load(sourceStream(organisationId, name), Source);
        if (state.settings?.managedBy !== 'config') continue;
        await this.commands.execute(new RemoveSource(organisationId, name, 'config'));
        this.logger.log(`Source '${name}' is no longer in the configuration file: removed`);
      }
      if (JSON.stringify(names) !== JSON.stringify(applied.sources)) {
        await this.aggregates.record(webhookConfigStream(organisationId), [new WebhookConfigApplied(organisationId, names)], {
          expectedRevision: applied.revision,
        });
      }
    });
    await this.readYourWrites.reflect(written);
  }

  private async apply(organisationId: string, declared: SourceDeclaration): Promise<void> {
    const { name, secret, settings } = declared;
    const projectId = settings.project_id;
    if (projectId && !this.tenancy.project(organisationId, projectId)) {
      throw new ConfigError(`Configuration file: sources.${name}.project_id: '${projectId}' is not a project of the default organisation`);
    }
    const stream = sourceStream(organisationId, name);
    const desired = newSettings(settings, 'config');
    const { state } = await this.aggregates.load(stream, Source);
    try {
      if (!state.exists) {
        await this.commands.execute(new RegisterSource(organisationId, name, desired, randomUUID(), secret));
        this.logger.log(`Source '${name}' registered from the configuration file`);
        return;
      }
      if (state.settings?.managedBy === 'api') this.logger.warn(`Source '${name}' was registered through the API; the configuration file now manages it`);
      await this.commands.execute(new UpdateSource(organisationId, name, desired, 'config'));
      const current = state.secrets.at(-1)!;
      if (openSourceSecret(this.box, stream, current) !== secret) {
        await this.commands.execute(new RotateSourceSecret(organisationId, name, randomUUID(), secret, DEFAULT_GRACE_PERIOD_SECONDS, 'config'));
        this.logger.log(`Source '${name}': secret changed in the configuration file, rotated (the previous one verifies for 24 h)`);
      }
    } catch (error) {
      if (error instanceof AppError && error.code === 'source_exists') {
        throw new ConfigError(`Configuration file: sources.${name}: the name is taken by a source of another organisation`);
      }
      throw error;
    }
  }

  private async lastApplied(organisationId: string): Promise<{ sources: string[]; revision: ExpectedRevision }> {
    try {
      const [recorded] = await this.store.readStream(webhookConfigStream(organisationId), { direction: 'backwards', maxCount: 1 });
      const event = hydrate(recorded);
      return { sources: event instanceof WebhookConfigApplied ? event.sources : [], revision: recorded.revision };
    } catch (error) {
      if (error instanceof StreamNotFound) return { sources: [], revision: 'no_stream' };
      throw error;
    }
  }
}
