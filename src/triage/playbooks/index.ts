import { AppError } from '../../http/app-error';
import { defaultTriage } from './default-triage.playbook';
import { malwareTriage } from './malware-triage.playbook';
import type { Playbook } from './playbook';
import { phishingTriage } from './phishing-triage.playbook';

export type { Playbook } from './playbook';

/** Every playbook this build has, by name. A source naming another one is refused (400 unknown_playbook). */
export const PLAYBOOKS: ReadonlyMap<string, Playbook> = new Map([phishingTriage, malwareTriage, defaultTriage].map((p) => [p.name, p]));

export const PLAYBOOK_NAMES: readonly string[] = [...PLAYBOOKS.keys()];

/** An auto-triage source without a playbook gets this one. */
export const DEFAULT_PLAYBOOK = defaultTriage.name;

export const unknownPlaybook = (name: string) =>
  new AppError(400, 'unknown_playbook', `Playbook '${name}' does not exist; known playbooks: ${PLAYBOOK_NAMES.join(', ')}`);

/** Throws 400 unknown_playbook for a name this build has no playbook for (null: none chosen, the default applies). */
export function assertKnownPlaybook(name: string | null | undefined): void {
  if (name !== null && name !== undefined && !PLAYBOOKS.has(name)) throw unknownPlaybook(name);
}
