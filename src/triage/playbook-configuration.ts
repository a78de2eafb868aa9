import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { loadWebhookConfig } from '../inbound/config/webhook-config';
import { DEFAULT_PLAYBOOK_SETTINGS, type PlaybookSettings } from './playbook-settings';

/**
 * The playbook settings in force: the `playbooks:` section of TW_CONFIG, or the defaults without a file.
 * Loaded while the application initialises (not in a provider factory: Nest aborts the process when one
 * throws), so a bad section stops the boot with the file's own message.
 */
@Injectable()
export class PlaybookConfiguration implements OnModuleInit {
  private loaded: PlaybookSettings = DEFAULT_PLAYBOOK_SETTINGS;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (this.config.configFile) this.loaded = loadWebhookConfig(this.config.configFile, process.env).playbooks;
  }

  get settings(): PlaybookSettings {
    return this.loaded;
  }
}
