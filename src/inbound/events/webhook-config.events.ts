import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';

/**
 * Stream `webhookConfig-<organisationId>`: the names of the sources the configuration file declared, written
 * when that set changes, so the next start knows which sources a shorter file no longer declares.
 */
@DomainEvent('WebhookConfigApplied')
export class WebhookConfigApplied implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly sources: string[],
  ) {}
}
