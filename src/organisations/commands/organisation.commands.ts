import type { ICommand } from '@nestjs/cqrs';
import type { Scope } from '../../contracts/scopes';

export class CreateOrganisation implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly name: string,
  ) {}
}

export class CreateProject implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
    readonly name: string,
  ) {}
}

export class IssueApiKey implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly keyId: string,
    readonly name: string,
    readonly scopes: Scope[],
    readonly keyHash: string,
  ) {}
}

export class RevokeApiKey implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly keyId: string,
  ) {}
}
