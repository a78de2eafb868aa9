import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { generateApiKey, hashApiKey } from '../auth/api-key';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DEFAULT_ORGANISATION } from '../contracts/tenancy';
import { AggregateStore, type Aggregate } from '../cqrs/aggregate-store';
import { ReadYourWrites } from '../cqrs/read-your-writes';
import { CreateOrganisation } from './commands/organisation.commands';
import { AdminKeyGenerated, InstanceInitialised } from './events/organisation.events';

export const INSTANCE_STREAM = 'instance-settings';

export { DEFAULT_ORGANISATION };

/**
 * First start and every start: the `default` organisation, and the instance admin key. TW_ADMIN_KEY wins
 * when set; otherwise a key generated on first start (printed once, only its hash recorded) stays in force.
 */
@Injectable()
export class InstanceService {
  private readonly logger = new Logger('Instance');
  private adminKeyHash: Buffer | null = null;
  private defaultOrgId = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly aggregates: AggregateStore,
    private readonly commands: ReadYourWrites,
  ) {}

  get defaultOrganisationId(): string {
    return this.defaultOrgId;
  }

  isAdminKey(key: string): boolean {
    if (!this.adminKeyHash) return false;
    return timingSafeEqual(Buffer.from(hashApiKey(key), 'hex'), this.adminKeyHash);
  }

  /**
   * Run by the app factory after the read side has started, before the server listens. Idempotent across
   * instances starting together on one empty store: the instance settings are decided on the stream's state and
   * appended with the revision that was read, so the second instance's append conflicts, is re-decided on the
   * first one's events and adopts them — one default organisation, one generated admin key (printed only by the
   * instance whose append won).
   */
  async initialise(): Promise<void> {
    let newKey: string | undefined;
    const { state } = await this.aggregates.execute(INSTANCE_STREAM, InstanceSettings, (current) => {
      newKey = undefined;
      const events = [];
      if (!current.defaultOrganisationId) events.push(new InstanceInitialised(randomUUID()));
      if (!this.config.adminKey && !current.generatedKeyHash) {
        newKey = generateApiKey();
        events.push(new AdminKeyGenerated(hashApiKey(newKey)));
      }
      return events;
    });
    // Appended before the key is printed: a key that is shown is a key that works after a restart.
    if (newKey) {
      this.logger.warn(`TW_ADMIN_KEY is not set: generated the instance admin key, shown only this once. Keep it: ${newKey}`);
    }
    const keyHash = this.config.adminKey ? hashApiKey(this.config.adminKey) : state.generatedKeyHash!;
    this.adminKeyHash = Buffer.from(keyHash, 'hex');
    this.defaultOrgId = state.defaultOrganisationId!;
    await this.commands.execute(new CreateOrganisation(this.defaultOrgId, DEFAULT_ORGANISATION));
  }
}

interface InstanceSettingsState {
  /** The last InstanceInitialised's (a store written before initialisation was idempotent may hold two). */
  defaultOrganisationId?: string;
  generatedKeyHash?: string;
}

/** The `instance-settings` stream as a fold. */
const InstanceSettings: Aggregate<InstanceSettingsState> = {
  initial: () => ({}),
  evolve: (state, event) => {
    if (event instanceof InstanceInitialised) return { ...state, defaultOrganisationId: event.defaultOrganisationId };
    if (event instanceof AdminKeyGenerated) return { ...state, generatedKeyHash: event.keyHash };
    return state;
  },
};
