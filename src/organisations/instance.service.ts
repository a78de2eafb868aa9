import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { generateApiKey, hashApiKey } from '../auth/api-key';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { hydrate, toEventData } from '../cqrs/domain-event';
import { eventMetadata } from '../cqrs/request-context';
import { ReadSideRunner } from '../cqrs/read-side.runner';
import { StreamNotFound } from '../event-store/event-store.errors';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port';
import { CreateOrganisation } from './commands/organisation.commands';
import { CreateOrganisationHandler } from './commands/organisation.handlers';
import { AdminKeyGenerated, InstanceInitialised } from './events/organisation.events';
import { ORGANISATIONS_PROJECTION } from './projections/organisations.projection';

export const INSTANCE_STREAM = 'instance-settings';
export const DEFAULT_ORGANISATION = 'default';

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
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly createOrganisation: CreateOrganisationHandler,
    private readonly readSide: ReadSideRunner,
  ) {}

  get defaultOrganisationId(): string {
    return this.defaultOrgId;
  }

  isAdminKey(key: string): boolean {
    if (!this.adminKeyHash) return false;
    return timingSafeEqual(Buffer.from(hashApiKey(key), 'hex'), this.adminKeyHash);
  }

  /** Run by the app factory after the read side has started, before the server listens. */
  async initialise(): Promise<void> {
    let initialised: InstanceInitialised | undefined;
    let generated: AdminKeyGenerated | undefined;
    try {
      for (const recorded of await this.store.readStream(INSTANCE_STREAM)) {
        const event = hydrate(recorded);
        if (event instanceof InstanceInitialised) initialised = event;
        if (event instanceof AdminKeyGenerated) generated = event;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
    }

    const toAppend = [];
    if (!initialised) toAppend.push((initialised = new InstanceInitialised(randomUUID())));
    let newKey: string | undefined;
    if (this.config.adminKey) {
      this.adminKeyHash = Buffer.from(hashApiKey(this.config.adminKey), 'hex');
    } else if (generated) {
      this.adminKeyHash = Buffer.from(generated.keyHash, 'hex');
    } else {
      newKey = generateApiKey();
      toAppend.push(new AdminKeyGenerated(hashApiKey(newKey)));
      this.adminKeyHash = Buffer.from(hashApiKey(newKey), 'hex');
    }
    if (toAppend.length > 0) {
      // Appended before the key is printed: a key that is shown is a key that works after a restart.
      const metadata = eventMetadata();
      await this.store.append(INSTANCE_STREAM, toAppend.map((e) => toEventData(e, metadata)));
    }
    if (newKey) {
      this.logger.warn(
        `TW_ADMIN_KEY is not set: generated the instance admin key, shown only this once. Keep it: ${newKey}`,
      );
    }
    this.defaultOrgId = initialised.defaultOrganisationId;
    const appended = await this.createOrganisation.execute(new CreateOrganisation(this.defaultOrgId, DEFAULT_ORGANISATION));
    if (appended) await this.readSide.catchUp([ORGANISATIONS_PROJECTION], appended.position);
  }
}
