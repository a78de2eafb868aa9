import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';

/**
 * Stream `monitoring-<projectId>`: whether continuous monitoring (ASCAM) runs for a project. Project ids are
 * uuids unique across the instance, so the project alone names the stream.
 */
export const monitoringStream = (projectId: string) => `monitoring-${projectId}`;

@DomainEvent('MonitoringPaused')
export class MonitoringPaused implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
    readonly reason: string | null,
    readonly pausedAt: string,
  ) {}
}

@DomainEvent('MonitoringResumed')
export class MonitoringResumed implements IEvent {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
    readonly resumedAt: string,
    readonly pausedSeconds: number,
  ) {}
}
