import { AppError } from '../http/app-error';

/**
 * The names of the playbooks this build has: the contract between inbound (a source names its playbook, in
 * the API and in the configuration file), triage (which runs them: src/triage/playbooks/index.ts has one
 * module per name, checked by the type below) and the API's documentation.
 */
export const PLAYBOOK_NAMES = ['phishing_triage', 'malware_triage', 'default_triage'] as const;
export type PlaybookName = (typeof PLAYBOOK_NAMES)[number];

/** An auto-triage source without a playbook gets this one. */
export const DEFAULT_PLAYBOOK: PlaybookName = 'default_triage';

export const isPlaybookName = (name: unknown): name is PlaybookName => typeof name === 'string' && (PLAYBOOK_NAMES as readonly string[]).includes(name);

export const unknownPlaybook = (name: string) =>
  new AppError(400, 'unknown_playbook', `Playbook '${name}' does not exist; known playbooks: ${PLAYBOOK_NAMES.join(', ')}`);

/** Throws 400 unknown_playbook for a name this build has no playbook for (null: none chosen, the default applies). */
export function assertKnownPlaybook(name: string | null | undefined): void {
  if (name !== null && name !== undefined && !isPlaybookName(name)) throw unknownPlaybook(name);
}
