import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SECRET_BOX, type SecretBox } from '../../config/secret-box';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { sameJson } from '../../event-store/hash-chain';
import { conflict, invalidRequest, notFound } from '../../http/app-error';
import { assertKnownPlaybook } from '../../contracts/playbooks';
import { TENANCY, type Tenancy } from '../../contracts/tenancy';
import {
  SourceNameClaimed,
  SourceNameReleased,
  SourceRegistered,
  SourceRemoved,
  SourceSecretRotated,
  SourceUpdated,
  type SourceSettings,
} from '../events/source.events';
import { Source, SourceName, sourceNameStream, sourceStream, type SourceState } from '../source.aggregate';
import { sealSourceSecret } from '../source-secrets';
import { RegisterSource, RemoveSource, RotateSourceSecret, UpdateSource, type SourceCommandOrigin } from './source.commands';

export const sourceExists = (name: string) => conflict(`Webhook source '${name}' already exists`, 'source_exists');
export const sourceNotFound = (name: string) => notFound(`Webhook source '${name}' not found`);

function existing(state: SourceState, name: string, via: SourceCommandOrigin): SourceState & { settings: SourceSettings } {
  if (!state.exists || !state.settings) throw sourceNotFound(name);
  if (via === 'api' && state.settings.managedBy === 'config') {
    throw conflict(
      `Webhook source '${name}' is declared in the configuration file (TW_CONFIG); change it there`,
      'source_managed_by_config',
    );
  }
  return state as SourceState & { settings: SourceSettings };
}

/** A source may name a project of its own organisation only (400 invalid_request naming project_id). */
function assertProjectOf(tenancy: Tenancy, organisationId: string, projectId: string | null | undefined): void {
  if (projectId && !tenancy.project(organisationId, projectId)) {
    throw invalidRequest(`project_id '${projectId}' is not a project of this organisation`, [
      { field: 'project_id', problems: ['is not a project of this organisation'] },
    ]);
  }
}

@CommandHandler(RegisterSource)
export class RegisterSourceHandler implements ICommandHandler<RegisterSource, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
  ) {}

  async execute({ organisationId, name, settings, secretId, secret }: RegisterSource): Promise<void> {
    // Before anything is written: a refused registration must not leave its name claimed.
    assertProjectOf(this.tenancy, organisationId, settings.projectId);
    assertKnownPlaybook(settings.playbook);
    // The name first: it is unique across organisations. Holding it already is fine (a retry, or a
    // re-registration after a removal); the source stream then decides whether the source still exists.
    await this.aggregates.execute(sourceNameStream(name), SourceName, (state) => {
      if (state.owner === organisationId) return [];
      if (state.owner !== null) throw sourceExists(name);
      return [new SourceNameClaimed(name, organisationId)];
    });
    const stream = sourceStream(organisationId, name);
    const sealed = sealSourceSecret(this.box, stream, secretId, secret, new Date().toISOString());
    await this.aggregates.execute(stream, Source, (state) => {
      if (state.exists) throw sourceExists(name);
      return [new SourceRegistered(organisationId, name, settings, sealed)];
    });
  }
}

@CommandHandler(UpdateSource)
export class UpdateSourceHandler implements ICommandHandler<UpdateSource, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
  ) {}

  async execute({ organisationId, name, changes, via }: UpdateSource): Promise<void> {
    assertProjectOf(this.tenancy, organisationId, changes.projectId);
    assertKnownPlaybook(changes.playbook);
    await this.aggregates.execute(sourceStream(organisationId, name), Source, (state) => {
      const current = existing(state, name, via).settings;
      const settings: SourceSettings = { ...current, ...changes };
      const changed = (Object.keys(settings) as (keyof SourceSettings)[]).filter(
        (key) => !sameJson(settings[key], current[key]),
      );
      return changed.length > 0 ? [new SourceUpdated(organisationId, name, settings, changed)] : [];
    });
  }
}

@CommandHandler(RotateSourceSecret)
export class RotateSourceSecretHandler implements ICommandHandler<RotateSourceSecret, void> {
  constructor(
    private readonly aggregates: AggregateStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ organisationId, name, secretId, secret, gracePeriodSeconds, via }: RotateSourceSecret): Promise<void> {
    const stream = sourceStream(organisationId, name);
    const now = Date.now();
    const sealed = sealSourceSecret(this.box, stream, secretId, secret, new Date(now).toISOString());
    const previousExpireAt = new Date(now + gracePeriodSeconds * 1000).toISOString();
    await this.aggregates.execute(stream, Source, (state) => {
      const current = existing(state, name, via);
      // A retry of this very rotation finds its secret already there.
      if (current.secrets.some((s) => s.id === secretId)) return [];
      return [new SourceSecretRotated(organisationId, name, sealed, previousExpireAt)];
    });
  }
}

@CommandHandler(RemoveSource)
export class RemoveSourceHandler implements ICommandHandler<RemoveSource, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, name, via }: RemoveSource): Promise<void> {
    await this.aggregates.execute(sourceStream(organisationId, name), Source, (state) => {
      existing(state, name, via);
      return [new SourceRemoved(organisationId, name)];
    });
    // Then the name is free for any organisation again.
    await this.aggregates.execute(sourceNameStream(name), SourceName, (state) =>
      state.owner === organisationId ? [new SourceNameReleased(name, organisationId)] : [],
    );
  }
}
