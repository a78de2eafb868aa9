import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';
import type { Severity, VendorFormat } from '../normalizers';

/** How a source's alerts are read and answered; every field always present, so events carry the whole truth. */
/** A source's own stream: every event above about it, in order (readers outside inbound fold it from these events). */
export const sourceStream = (organisationId: string, name: string) => `source-${organisationId}.${name}`;

export interface SourceSettings {
  autoTriage: boolean;
  /** A playbook name; the playbooks capability checks that it exists. */
  playbook: string | null;
  format: 'auto' | VendorFormat;
  /** Vendor severity value (case-insensitive) → Towline severity, tried before the vendor's own mapping. */
  severityMapping: Record<string, Severity>;
  projectId: string | null;
  /** sync: processed while the sender waits (202 accepted); async: always answered 202 queued. */
  mode: 'sync' | 'async';
  /**
   * Requests per TW_RATE_LIMIT_WINDOW this source may send, instead of TW_WEBHOOK_RATE_LIMIT; 0: no limit.
   * Absent or null: the instance default (absent in events written before it existed).
   */
  rateLimit?: number | null;
  /**
   * Splunk: the result field that tells one repeat of a saved search from another alert of it, instead of the
   * host (the dedup key is then search name + that field's value). Absent or null: the host.
   */
  dedupField?: string | null;
  /** config: declared in TW_CONFIG's file, which is then the only place to change it. */
  managedBy: 'api' | 'config';
}

/** A signing secret as events hold it: only ever sealed (SecretBox, bound to the source stream and secret id). */
export interface SealedSourceSecret {
  id: string;
  sealed: string;
  createdAt: string;
}

/** Stream `source-<organisationId>.<name>`: one source of one organisation, across removals and re-registrations. */

@DomainEvent('SourceRegistered')
export class SourceRegistered implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly settings: SourceSettings,
    readonly secret: SealedSourceSecret,
  ) {}
}

/** The whole settings after the change, and which fields changed, so projections need no earlier state. */
@DomainEvent('SourceUpdated')
export class SourceUpdated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly settings: SourceSettings,
    readonly changed: string[],
  ) {}
}

/** The new secret verifies at once; every older one stops verifying at `previousExpireAt` (or earlier, if it already was to). */
@DomainEvent('SourceSecretRotated')
export class SourceSecretRotated implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly secret: SealedSourceSecret,
    readonly previousExpireAt: string,
  ) {}
}

@DomainEvent('SourceRemoved')
export class SourceRemoved implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly name: string,
  ) {}
}

/**
 * Stream `sourceName-<name>`: source names are unique across the instance, because the public receiving URL
 * (`POST /api/webhooks/:source`) names only the source. The claim is the one place that decides it, with
 * the store's optimistic concurrency, so two organisations cannot take one name at once.
 */

@DomainEvent('SourceNameClaimed')
export class SourceNameClaimed implements IEvent {
  constructor(
    readonly name: string,
    readonly organisationId: string,
  ) {}
}

@DomainEvent('SourceNameReleased')
export class SourceNameReleased implements IEvent {
  constructor(
    readonly name: string,
    readonly organisationId: string,
  ) {}
}
