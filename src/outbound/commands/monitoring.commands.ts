import type { ICommand } from '@nestjs/cqrs';

export class PauseMonitoring implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
    readonly reason: string | null,
  ) {}
}

export class ResumeMonitoring implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly projectId: string,
  ) {}
}
