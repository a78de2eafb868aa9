import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { Scope } from '../../contracts/scopes';

/** Stream `organisation-<id>`: the organisation, its projects and its API keys. */

@DomainEvent('OrganisationCreated')
export class OrganisationCreated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly name: string,
  ) {}
}

@DomainEvent('ProjectCreated')
export class ProjectCreated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
    readonly name: string,
  ) {}
}

/** Only the SHA-256 of the key is recorded: the key itself is shown once and never stored. */
@DomainEvent('ApiKeyIssued')
export class ApiKeyIssued implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly keyId: string,
    readonly name: string,
    readonly scopes: Scope[],
    readonly keyHash: string,
  ) {}
}

@DomainEvent('ApiKeyRevoked')
export class ApiKeyRevoked implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly keyId: string,
  ) {}
}

/** Stream `instance-settings`: facts about this installation. */

@DomainEvent('InstanceInitialised')
export class InstanceInitialised implements IEvent {
  constructor(readonly defaultOrganisationId: string) {}
}

/** Recorded when TW_ADMIN_KEY was unset and a key was generated (and printed once). Hash only. */
@DomainEvent('AdminKeyGenerated')
export class AdminKeyGenerated implements IEvent {
  constructor(readonly keyHash: string) {}
}
