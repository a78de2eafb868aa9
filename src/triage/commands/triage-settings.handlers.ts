import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import canonicalize from 'canonicalize';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { invalidRequest, notFound } from '../../http/app-error';
import { TriageSettingsChanged } from '../events/triage-settings.events';
import { PlaybookConfiguration } from '../playbook-configuration';
import { PLAYBOOK_NAMES } from '../playbooks';
import { OrganisationTriageSettings, organisationSettingsStream } from '../triage-settings.aggregate';
import { parseBody, seededDocument, withEntry, type TriageSettingsDocument } from '../triage-settings';
import { ChangeTriageSettings } from './triage-settings.commands';

export interface TriageSettingsResult {
  /** The organisation's settings after the change (the same when nothing had to change). */
  settings: TriageSettingsDocument;
}

/**
 * Decides on the organisation's stream, so two edits at once both land (the second is re-decided on the
 * first's result). The first edit starts from the settings the organisation had until then — the
 * configuration file's — and from then on they are its own.
 */
@CommandHandler(ChangeTriageSettings)
export class ChangeTriageSettingsHandler implements ICommandHandler<ChangeTriageSettings, TriageSettingsResult> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly instance: PlaybookConfiguration,
  ) {}

  async execute({ organisationId, change, body }: ChangeTriageSettings): Promise<TriageSettingsResult> {
    const { state } = await this.aggregates.execute(organisationSettingsStream(organisationId), OrganisationTriageSettings, (current) => {
      if (!current.exists) throw notFound(`Organisation '${organisationId}' not found`);
      const before = current.settings ?? seededDocument(this.instance.settings);
      const requested =
        change.kind === 'replace' ? body : withEntry(before, change.kind, change.list, change.value, change.criticality);
      let after: TriageSettingsDocument;
      try {
        after = parseBody(requested, PLAYBOOK_NAMES);
      } catch (error) {
        throw invalidRequest((error as Error).message);
      }
      if (current.settings && canonicalize(after) === canonicalize(current.settings)) return [];
      return [new TriageSettingsChanged(organisationId, after, change, new Date().toISOString())];
    });
    return { settings: state.settings ?? seededDocument(this.instance.settings) };
  }
}
