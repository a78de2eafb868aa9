import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigFile, type ConfigDocument } from '../config/config-file';
import { PLAYBOOK_NAMES } from '../contracts/playbooks';
import { DEFAULT_PLAYBOOK_SETTINGS, parsePlaybookSettings, type PlaybookSettings } from './playbook-settings';

/** The `playbooks:` section of the configuration file, with defaults for what it does not say. */
export function parsePlaybooksSection(document: ConfigDocument): PlaybookSettings {
  const section = document.interpolate(document.section('playbooks'), 'playbooks');
  try {
    return parsePlaybookSettings(section, PLAYBOOK_NAMES);
  } catch (error) {
    throw document.fail('playbooks', (error as Error).message);
  }
}

/**
 * The playbook settings in force: the `playbooks:` section of TW_CONFIG, or the defaults without a file.
 * Loaded while the application initialises, so a bad section stops the boot with the file's own message.
 */
@Injectable()
export class PlaybookConfiguration implements OnModuleInit {
  private loaded: PlaybookSettings = DEFAULT_PLAYBOOK_SETTINGS;

  constructor(private readonly file: ConfigFile) {}

  onModuleInit(): void {
    const document = this.file.document();
    if (document) this.loaded = parsePlaybooksSection(document);
  }

  get settings(): PlaybookSettings {
    return this.loaded;
  }
}
