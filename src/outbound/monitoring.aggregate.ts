import type { IEvent } from '@nestjs/cqrs';
import type { Aggregate } from '../cqrs/aggregate-store';
import { MonitoringPaused, MonitoringResumed } from './events/monitoring.events';

export interface MonitoringState {
  paused: boolean;
  since: string | null;
  reason: string | null;
}

export const Monitoring: Aggregate<MonitoringState> = {
  initial: () => ({ paused: false, since: null, reason: null }),
  evolve(state: MonitoringState, event: IEvent): MonitoringState {
    if (event instanceof MonitoringPaused) return { paused: true, since: event.pausedAt, reason: event.reason };
    if (event instanceof MonitoringResumed) return { paused: false, since: event.resumedAt, reason: null };
    return state;
  },
};
