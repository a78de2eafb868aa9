import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import type { AppendResult } from '../../event-store/event-store.port';
import { conflict, notFound } from '../../http/app-error';
import { ApiKeyIssued, ApiKeyRevoked, OrganisationCreated, ProjectCreated } from '../events/organisation.events';
import { Organisation, organisationStream, type OrganisationState } from '../organisation.aggregate';
import { CreateOrganisation, CreateProject, IssueApiKey, RevokeApiKey } from './organisation.commands';

/** What every organisation command answers: where its events landed (null when nothing had to change). */
export type CommandResult = AppendResult | null;

function existing(state: OrganisationState): OrganisationState {
  if (!state.exists) throw notFound('Organisation not found');
  return state;
}

@CommandHandler(CreateOrganisation)
export class CreateOrganisationHandler implements ICommandHandler<CreateOrganisation, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, name }: CreateOrganisation): Promise<CommandResult> {
    const { appended } = await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) =>
      // Creating twice with the same id is a retry, not an error.
      state.exists ? [] : [new OrganisationCreated(organisationId, name)],
    );
    return appended;
  }
}

@CommandHandler(CreateProject)
export class CreateProjectHandler implements ICommandHandler<CreateProject, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, projectId, name }: CreateProject): Promise<CommandResult> {
    const { appended } = await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) => {
      const taken = existing(state).projectsByName.get(name.toLowerCase());
      if (taken === projectId) return [];
      if (taken) throw conflict(`A project named '${name}' already exists`, 'project_exists');
      return [new ProjectCreated(organisationId, projectId, name)];
    });
    return appended;
  }
}

@CommandHandler(IssueApiKey)
export class IssueApiKeyHandler implements ICommandHandler<IssueApiKey, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, keyId, name, scopes, keyHash }: IssueApiKey): Promise<CommandResult> {
    const { appended } = await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) =>
      existing(state).keys.has(keyId) ? [] : [new ApiKeyIssued(organisationId, keyId, name, scopes, keyHash)],
    );
    return appended;
  }
}

@CommandHandler(RevokeApiKey)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKey, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, keyId }: RevokeApiKey): Promise<CommandResult> {
    const { appended } = await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) => {
      const key = existing(state).keys.get(keyId);
      if (!key) throw notFound('API key not found');
      return key.revoked ? [] : [new ApiKeyRevoked(organisationId, keyId)];
    });
    return appended;
  }
}
