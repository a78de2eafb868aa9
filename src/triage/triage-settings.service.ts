import { Injectable } from '@nestjs/common';
import { AggregateStore } from '../cqrs/aggregate-store';
import { ReadSideRunner } from '../cqrs/read-side.runner';
import type { Position } from '../event-store/event-store.port';
import { PlaybookConfiguration } from './playbook-configuration';
import type { PlaybookSettings } from './playbook-settings';
import { LEARNED_DOMAINS_PROJECTION, LearnedDomainsProjection } from './projections/learned-domains.projection';
import { OrganisationTriageSettings, organisationSettingsStream } from './triage-settings.aggregate';
import { effectiveSettings, MAX_LEARNED_DOMAINS, seededDocument, type TriageSettingsDocument } from './triage-settings';

export interface OrganisationSettings {
  /** `api`: edited through the API; `instance`: none of its own yet, the configuration file's (or built-in) settings. */
  origin: 'api' | 'instance';
  document: TriageSettingsDocument;
  changedAt: string | null;
  learned: string[];
}

/**
 * Triage settings per organisation, read from the organisation's stream at every use: an edit takes effect
 * with the next step that runs, on every instance, without a restart or a cache to invalidate.
 */
@Injectable()
export class TriageSettingsService {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly instance: PlaybookConfiguration,
    private readonly learned: LearnedDomainsProjection,
    private readonly readSide: ReadSideRunner,
  ) {}

  async organisation(organisationId: string): Promise<OrganisationSettings> {
    const { state } = await this.aggregates.load(organisationSettingsStream(organisationId), OrganisationTriageSettings);
    return {
      origin: state.settings ? 'api' : 'instance',
      document: state.settings ?? seededDocument(this.instance.settings),
      changedAt: state.changedAt,
      learned: this.learned.domains(organisationId),
    };
  }

  /**
   * What a playbook runs with for this organisation. `seenUpTo`, the position of the newest event the run
   * is judged on, lets the learned domains include those of the very alert being triaged.
   */
  async effective(organisationId: string, seenUpTo?: Position): Promise<PlaybookSettings> {
    if (seenUpTo) await this.readSide.catchUp([LEARNED_DOMAINS_PROJECTION], seenUpTo);
    const { document } = await this.organisation(organisationId);
    return effectiveSettings(this.instance.settings, document, this.learned.domains(organisationId, MAX_LEARNED_DOMAINS));
  }
}
