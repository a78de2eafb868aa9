import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore, type Decided } from '../../cqrs/aggregate-store';
import { MonitoringPaused, MonitoringResumed, monitoringStream } from '../events/monitoring.events';
import { Monitoring, type MonitoringState } from '../monitoring.aggregate';
import { PauseMonitoring, ResumeMonitoring } from './monitoring.commands';

/** Pausing a paused project (or resuming a running one) changes nothing and emits nothing. */
@CommandHandler(PauseMonitoring)
export class PauseMonitoringHandler implements ICommandHandler<PauseMonitoring, Decided<MonitoringState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ organisationId, projectId, reason }: PauseMonitoring): Promise<Decided<MonitoringState>> {
    return this.aggregates.execute(monitoringStream(projectId), Monitoring, (state) =>
      state.paused ? [] : [new MonitoringPaused(organisationId, projectId, reason, new Date().toISOString())],
    );
  }
}

@CommandHandler(ResumeMonitoring)
export class ResumeMonitoringHandler implements ICommandHandler<ResumeMonitoring, Decided<MonitoringState>> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ organisationId, projectId }: ResumeMonitoring): Promise<Decided<MonitoringState>> {
    return this.aggregates.execute(monitoringStream(projectId), Monitoring, (state) => {
      if (!state.paused) return [];
      const now = new Date();
      const pausedSeconds = state.since ? Math.max(0, Math.round((now.getTime() - Date.parse(state.since)) / 1000)) : 0;
      return [new MonitoringResumed(organisationId, projectId, now.toISOString(), pausedSeconds)];
    });
  }
}
