import { Option, type Command } from 'commander';
import type { CliContext } from '../context';
import { fields, table } from '../output';
import { parseInstant, parsePositive, SEVERITIES } from '../parsers';
import type { Schema } from '../api';

/** GET /api/incidents items (the fields tw-cli shows; --json prints them all). */
type Incident = Schema<'IncidentDto'>;

type IncidentDetail = Schema<'IncidentDetailDto'>;

const STATUSES = ['open', 'needs_manual_triage', 'acknowledged', 'resolved', 'verified', 'closed'];
const RESOLUTIONS = ['remediated', 'mitigated', 'risk_accepted', 'other'];
const CLOSE_REASONS = ['false_positive', 'benign', 'duplicate'];

const sla = (clock: { due_at: string; breached: boolean } | undefined) => (clock ? `${clock.breached ? 'BREACHED, ' : ''}due ${clock.due_at}` : null);

export function describeIncident(i: IncidentDetail): string {
  const parts = [
    fields([
      ['incident', `${i.number}  (${i.id})`],
      ['title', i.title],
      ['status', i.status + (i.stale ? '  (stale: an event of it is parked)' : '')],
      ['severity', i.severity],
      ['source', i.source],
      ['category', i.category],
      ['assignee', i.assignee],
      ['project', i.project_id],
      ['verdict', i.verdict === null ? null : `${i.verdict}${i.triage_score === null ? '' : ` (score ${i.triage_score})`}`],
      ['alerts', `${i.alert_count}${i.regression_count ? `, ${i.regression_count} regression(s)` : ''}`],
      ['duplicate of', i.duplicate_of],
      ['opened', i.opened_at],
      ['last seen', i.last_seen_at],
      ['resolution', i.resolution],
      ['close reason', i.close_reason],
      ['sla acknowledge', sla(i.sla?.acknowledge)],
      ['sla resolve', sla(i.sla?.resolve)],
    ]),
  ];
  const runs = table(i.triage_runs ?? [], [
    { header: 'PLAYBOOK', value: (r) => r.playbook },
    { header: 'STATUS', value: (r) => r.status },
    { header: 'VERDICT', value: (r) => r.verdict },
    { header: 'SCORE', value: (r) => r.score },
    { header: 'REASONS', value: (r) => r.reasons.join('; ') },
  ]);
  const timeline = table(i.timeline ?? [], [
    { header: 'AT', value: (e) => e.at },
    { header: 'EVENT', value: (e) => e.type },
    { header: 'BY', value: (e) => e.actor },
  ]);
  if (i.triage_runs?.length) parts.push(`Triage runs\n${runs}`);
  if (i.timeline?.length) parts.push(`Timeline\n${timeline}`);
  return parts.join('\n\n');
}

/** `tw-cli incidents …`: list, read and move incidents through their lifecycle (docs/incidents.md). */
export function registerIncidents(program: Command, cli: CliContext): void {
  const incidents = program.command('incidents').description('incidents: list, show, and move them through their lifecycle (ack, resolve, verify, close, reopen)');
  const path = (incident: string, action = '') => `/api/incidents/${encodeURIComponent(incident)}${action}`;
  const ORGANISATION = 'organisation (instance admin key only; default: default)';
  const INCIDENT = '<incident>';
  const org = (organisation?: string) => ({ organisation_id: organisation });

  incidents
    .command('list')
    .description('list incidents, newest first (one page: --cursor with the printed next cursor gives the next)')
    .addOption(new Option('--status <status>', 'only this status').choices(STATUSES))
    .addOption(new Option('--severity <severity>', 'only this severity').choices([...SEVERITIES]))
    .option('--source <source>', 'only incidents of this webhook source')
    .option('--project <id>', 'only this project')
    .option('--assignee <assignee>', 'only incidents assigned to this assignee')
    .option('--since <time>', 'opened at or after this ISO 8601 time', parseInstant)
    .option('--until <time>', 'opened before this ISO 8601 time', parseInstant)
    .option('--limit <n>', 'at most this many (1–500, default 50)', parsePositive)
    .option('--cursor <cursor>', "the previous page's next cursor")
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: Record<string, string | number | undefined>) => {
      const page = await cli.api().request<{ items: Incident[]; next_cursor: string | null }>('GET', '/api/incidents', undefined, {
        status: options.status,
        severity: options.severity,
        source: options.source,
        project_id: options.project,
        assignee: options.assignee,
        since: options.since,
        until: options.until,
        limit: options.limit,
        cursor: options.cursor,
        organisation_id: options.organisation,
      });
      cli.print(page, () => {
        if (page.items.length === 0) return 'No incidents.';
        const lines = [
          table(page.items, [
            { header: 'NUMBER', value: (i) => i.number },
            { header: 'STATUS', value: (i) => i.status },
            { header: 'SEVERITY', value: (i) => i.severity },
            { header: 'SOURCE', value: (i) => i.source },
            { header: 'ALERTS', value: (i) => i.alert_count },
            { header: 'VERDICT', value: (i) => i.verdict },
            { header: 'ASSIGNEE', value: (i) => i.assignee },
            { header: 'OPENED', value: (i) => i.opened_at },
            { header: 'TITLE', value: (i) => i.title },
          ]),
        ];
        if (page.next_cursor) lines.push('', `More: tw-cli incidents list --cursor ${page.next_cursor}`);
        return lines.join('\n');
      });
    });

  incidents
    .command('show <incident>')
    .description('show an incident (by number, INC-2026-0001, or id): its fields, triage runs and timeline')
    .option('--organisation <id>', ORGANISATION)
    .action(async (incident: string, options: { organisation?: string }) => {
      const found = await cli.api().request<IncidentDetail>('GET', path(incident), undefined, org(options.organisation));
      cli.print(found, () => describeIncident(found));
    });

  /** Every lifecycle verb answers the incident as it is now: the same summary line for all of them. */
  const change = (incident: string, action: string, body: unknown, organisation: string | undefined, done: string) =>
    cli
      .api()
      .request<IncidentDetail>('POST', path(incident, `/${action}`), body, org(organisation))
      .then((found) => cli.print(found, () => `${found.number} ${done}: status ${found.status}${found.assignee ? `, assigned to ${found.assignee}` : ''}.`));

  incidents
    .command(`assign ${INCIDENT} <assignee>`)
    .description('assign the incident to a person or team')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, assignee: string, options: { organisation?: string }) => change(incident, 'assign', { assignee }, options.organisation, 'assigned'));

  incidents
    .command(`ack ${INCIDENT}`)
    .description('acknowledge: someone is on it (from open or needs_manual_triage)')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, options: { organisation?: string }) => change(incident, 'acknowledge', undefined, options.organisation, 'acknowledged'));

  incidents
    .command(`resolve ${INCIDENT}`)
    .description('resolve: fixed, mitigated, or the risk accepted (verify the fix later)')
    .addOption(new Option('--resolution <resolution>', 'how it was resolved').choices(RESOLUTIONS).default('remediated'))
    .option('--note <text>', 'a note kept on the incident')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, options: { resolution: string; note?: string; organisation?: string }) =>
      change(incident, 'resolve', { resolution: options.resolution, note: options.note }, options.organisation, 'resolved'),
    );

  incidents
    .command(`verify ${INCIDENT}`)
    .description('record the re-test of a resolution: --passed → verified; --failed → back to acknowledged')
    .option('--passed', 'the re-test shows the fix works (the default)')
    .option('--failed', 'the re-test shows it does not')
    .option('--note <text>', 'a note kept on the incident')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, options: { passed?: boolean; failed?: boolean; note?: string; organisation?: string }, command: Command) => {
      if (options.passed && options.failed) command.error('error: give --passed or --failed, not both', { exitCode: 2, code: 'tw.conflictingOptions' });
      return change(incident, 'verify', { passed: !options.failed, note: options.note }, options.organisation, options.failed ? 'failed verification' : 'verified');
    });

  incidents
    .command(`close ${INCIDENT}`)
    .description('close without a fix: a false positive, benign, or a duplicate')
    .addOption(new Option('--reason <reason>', 'why').choices(CLOSE_REASONS).makeOptionMandatory())
    .option('--note <text>', 'a note kept on the incident')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, options: { reason: string; note?: string; organisation?: string }) =>
      change(incident, 'close', { reason: options.reason, note: options.note }, options.organisation, 'closed'),
    );

  incidents
    .command(`reopen ${INCIDENT}`)
    .description('reopen a resolved, verified or closed incident')
    .option('--note <text>', 'a note kept on the incident')
    .option('--organisation <id>', ORGANISATION)
    .action((incident: string, options: { note?: string; organisation?: string }) => change(incident, 'reopen', { note: options.note }, options.organisation, 'reopened'));

  incidents
    .command(`triage ${INCIDENT}`)
    .description("run the incident's playbook again, as a new run (it goes on in the background)")
    .option('--organisation <id>', ORGANISATION)
    .action(async (incident: string, options: { organisation?: string }) => {
      const rerun = await cli
        .api()
        .request<{ incident_number: string; run_id: string | null; status: string }>('POST', path(incident, '/triage'), undefined, org(options.organisation));
      cli.print(rerun, () => `${rerun.incident_number}: triage ${rerun.status}${rerun.run_id ? ` (run ${rerun.run_id})` : ''}.`);
    });

  incidents
    .command(`trace ${INCIDENT}`)
    .description('the causal chain behind the incident: webhook receipts, the incident, triage, security events, deliveries, attempts (scope audit:read)')
    .option('--organisation <id>', ORGANISATION)
    .action(async (incident: string, options: { organisation?: string }) => {
      // The trace is addressed by the incident's id: a number (INC-2026-0001) is looked up first.
      const id = /^inc-/i.test(incident)
        ? (await cli.api().request<Incident>('GET', path(incident), undefined, org(options.organisation))).id
        : incident;
      type TraceEvent = { stage: string; stream: string; revision: number; id: string; type: string; created: string; caused_by: string | null };
      const trace = await cli.api().request<{ correlation_id: string; events: TraceEvent[] }>('GET', path(id, '/trace'), undefined, org(options.organisation));
      cli.print(trace, () =>
        trace.events.length
          ? [
              `correlation ${trace.correlation_id}`,
              table(trace.events, [
                { header: 'STAGE', value: (e) => e.stage },
                { header: 'AT', value: (e) => e.created },
                { header: 'EVENT', value: (e) => e.type },
                { header: 'STREAM', value: (e) => `${e.stream}@${e.revision}` },
                { header: 'ID', value: (e) => e.id },
                { header: 'CAUSED BY', value: (e) => e.caused_by },
              ]),
            ].join('\n')
          : `Nothing recorded for ${incident}.`,
      );
    });

  incidents
    .command('stats')
    .description('per source: incidents by status, severity and verdict; mean times to acknowledge and resolve')
    .option('--source <source>', 'only this webhook source')
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: { source?: string; organisation?: string }) => {
      type Stats = { source: string; total: number; by_status: Record<string, number>; mean_time_to_acknowledge_seconds: number | null; mean_time_to_resolve_seconds: number | null };
      const stats = await cli.api().request<Stats[]>('GET', '/api/incidents/statistics', undefined, { source: options.source, organisation_id: options.organisation });
      const counts = (by: Record<string, number>) =>
        Object.entries(by)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k}=${n}`)
          .join(' ');
      const seconds = (s: number | null) => (s === null ? null : `${Math.round(s)} s`);
      cli.print(stats, () =>
        stats.length
          ? table(stats, [
              { header: 'SOURCE', value: (s) => s.source },
              { header: 'TOTAL', value: (s) => s.total },
              { header: 'BY STATUS', value: (s) => counts(s.by_status) },
              { header: 'MEAN TO ACK', value: (s) => seconds(s.mean_time_to_acknowledge_seconds) },
              { header: 'MEAN TO RESOLVE', value: (s) => seconds(s.mean_time_to_resolve_seconds) },
            ])
          : 'No incidents.',
      );
    });
}
