import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';

/**
 * Stream `idempotencyKey-<id>`: one Idempotency-Key of one caller on one route (the id is
 * uuidv5(IDEMPOTENCY_NAMESPACE, "<actor> <method> <path> <key>"), so the key itself is never stored). In the
 * event store, not in an instance's memory or read model, so the key holds across instances: the start is
 * appended at the revision the stream was read at, and of two instances racing with one key exactly one
 * runs the request.
 */
export const idempotencyStream = (id: string) => `idempotencyKey-${id}`;

@DomainEvent('IdempotentRequestStarted')
export class IdempotentRequestStarted implements IEvent {
  constructor(
    readonly method: string,
    readonly path: string,
    /** sha256:<hex> of the request body's exact bytes. */
    readonly bodyDigest: string,
    readonly startedAt: string,
  ) {}
}

/**
 * The answer a repeat gets: the first one's status and body, without any secret it carried (a generated
 * webhook secret is shown once and never stored in the clear). A 5xx is not kept (IdempotentRequestAbandoned).
 */
@DomainEvent('IdempotentRequestCompleted')
export class IdempotentRequestCompleted implements IEvent {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly completedAt: string,
  ) {}
}

/** The request failed on Towline's side (5xx): the key is free again for a retry. */
@DomainEvent('IdempotentRequestAbandoned')
export class IdempotentRequestAbandoned implements IEvent {
  constructor(readonly abandonedAt: string) {}
}
