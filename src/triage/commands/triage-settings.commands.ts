import type { ICommand } from '@nestjs/cqrs';
import type { TriageSettingsChange } from '../events/triage-settings.events';
import type { TriageSettingsBody } from '../triage-settings';

/**
 * Change an organisation's triage settings: replace them with `body`, or add or remove one entry of a list.
 * Answers the settings after the change; nothing is appended when nothing changes.
 */
export class ChangeTriageSettings implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly change: TriageSettingsChange,
    /** For a replace: the new settings, as the API received them. */
    readonly body?: unknown,
  ) {}
}

export type { TriageSettingsBody };
