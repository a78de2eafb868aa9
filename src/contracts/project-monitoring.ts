/**
 * Whether monitoring of a project is paused: auto-triage does not run for a paused project's incidents
 * (their alerts are still recorded). The outbound capability owns the pause switch and provides this
 * (its MonitoringService, bound to PROJECT_MONITORING in outbound.module.ts); triage depends on nothing more
 * than this one question.
 */
export const PROJECT_MONITORING = Symbol('PROJECT_MONITORING');

export interface ProjectMonitoring {
  isProjectPaused(organisationId: string, projectId: string): boolean | Promise<boolean>;
}
