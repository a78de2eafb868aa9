import { DEFAULT_PLAYBOOK, PLAYBOOK_NAMES, type PlaybookName } from '../../contracts/playbooks';
import { defaultTriage } from './default-triage.playbook';
import { malwareTriage } from './malware-triage.playbook';
import type { Playbook } from './playbook';
import { phishingTriage } from './phishing-triage.playbook';

export type { Playbook } from './playbook';

/** Every playbook this build has, by name: exactly the names of the contract (src/contracts/playbooks.ts). */
const BY_NAME: Record<PlaybookName, Playbook> = {
  phishing_triage: phishingTriage,
  malware_triage: malwareTriage,
  default_triage: defaultTriage,
};

export const PLAYBOOKS: ReadonlyMap<string, Playbook> = new Map(PLAYBOOK_NAMES.map((name) => [name, BY_NAME[name]]));

export { DEFAULT_PLAYBOOK, PLAYBOOK_NAMES };
