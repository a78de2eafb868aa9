import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { conflict, notFound } from '../../http/app-error';
import { ApiKeyIssued, ApiKeyRevoked, OrganisationCreated, ProjectCreated } from '../events/organisation.events';
import { Organisation, organisationStream, type OrganisationState } from '../organisation.aggregate';
import { CreateOrganisation, CreateProject, IssueApiKey, RevokeApiKey } from './organisation.commands';

function existing(state: OrganisationState): OrganisationState {
  if (!state.exists) throw notFound('Organisation not found');
  return state;
}

@CommandHandler(CreateOrganisation)
export class CreateOrganisationHandler implements ICommandHandler<CreateOrganisation, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, name }: CreateOrganisation): Promise<void> {
    await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) =>
      // Creating twice with the same id is a retry, not an error.
      state.exists ? [] : [new OrganisationCreated(organisationId, name)],
    );
  }
}

@CommandHandler(CreateProject)
export class CreateProjectHandler implements ICommandHandler<CreateProject, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, projectId, name }: CreateProject): Promise<void> {
    await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) => {
      const taken = existing(state).projectsByName.get(name.toLowerCase());
      if (taken === projectId) return [];
      if (taken) throw conflict(`A project named '${name}' already exists`, 'project_exists');
      return [new ProjectCreated(organisationId, projectId, name)];
    });
  }
}

@CommandHandler(IssueApiKey)
export class IssueApiKeyHandler implements ICommandHandler<IssueApiKey, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, keyId, name, scopes, keyHash }: IssueApiKey): Promise<void> {
    await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) =>
      existing(state).keys.has(keyId) ? [] : [new ApiKeyIssued(organisationId, keyId, name, scopes, keyHash)],
    );
  }
}

@CommandHandler(RevokeApiKey)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKey, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, keyId }: RevokeApiKey): Promise<void> {
    await this.aggregates.execute(organisationStream(organisationId), Organisation, (state) => {
      const key = existing(state).keys.get(keyId);
      if (!key) throw notFound('API key not found');
      return key.revoked ? [] : [new ApiKeyRevoked(organisationId, keyId)];
    });
  }
}
