import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { MonitoringPaused, MonitoringResumed, monitoringStream } from '../events/monitoring.events';
import { Monitoring } from '../monitoring.aggregate';
import { PauseMonitoring, ResumeMonitoring } from './monitoring.commands';

/** Pausing a paused project (or resuming a running one) changes nothing and emits nothing. */
@CommandHandler(PauseMonitoring)
export class PauseMonitoringHandler implements ICommandHandler<PauseMonitoring, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, projectId, reason }: PauseMonitoring): Promise<void> {
    await this.aggregates.execute(monitoringStream(projectId), Monitoring, (state) =>
      state.paused ? [] : [new MonitoringPaused(organisationId, projectId, reason, new Date().toISOString())],
    );
  }
}

@CommandHandler(ResumeMonitoring)
export class ResumeMonitoringHandler implements ICommandHandler<ResumeMonitoring, void> {
  constructor(private readonly aggregates: AggregateStore) {}

  async execute({ organisationId, projectId }: ResumeMonitoring): Promise<void> {
    await this.aggregates.execute(monitoringStream(projectId), Monitoring, (state) => {
      if (!state.paused) return [];
      const now = new Date();
      const pausedSeconds = state.since ? Math.max(0, Math.round((now.getTime() - Date.parse(state.since)) / 1000)) : 0;
      return [new MonitoringResumed(organisationId, projectId, now.toISOString(), pausedSeconds)];
    });
  }
}
