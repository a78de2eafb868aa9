import { Inject, Injectable } from '@nestjs/common';
import { hydrate } from '../../cqrs/domain-event';
import { EVENT_STORE, type EventStore, type JsonValue, type RecordedEvent } from '../../event-store/event-store.port';
import { AlertReceived, alertStream } from '../../inbound/events/alert.events';
import { AlertAttached, IncidentLinked, IncidentOpened } from '../../incidents/events/incident.events';
import type { Severity } from '../../contracts/alert';
import { maxSeverity, type IncidentState } from '../../incidents/incident.aggregate';
import { TriageSettingsService } from '../triage-settings.service';
import type { TriageAlert, TriageInput } from '../playbooks/playbook';
import { rawItem } from './raw-item';

/** Enough to judge an incident by; a flood of repeats should not make every step slower. */
const MAX_ALERTS = 50;

/**
 * Builds what a playbook sees from the incident's recorded stream and, for the raw payloads, the receipts
 * its alerts came in (`alert-<receipt id>`): nothing but stored events, so a re-run sees what the first run
 * saw (plus whatever was appended since).
 */
@Injectable()
export class TriageInputs {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly settings: TriageSettingsService,
  ) {}

  async build(incident: IncidentState, history: readonly RecordedEvent[], playbook: string): Promise<TriageInput> {
    const events = history.map(hydrate);
    const opened = events.find((e): e is IncidentOpened => e instanceof IncidentOpened);
    if (!opened || !incident.number || !incident.organisationId || !incident.source) throw new Error('The incident has not opened');
    const triggers = events.filter((e): e is AlertAttached => e instanceof AlertAttached && e.action === 'trigger');
    const attached = triggers.slice(-MAX_ALERTS);
    const bodies = new Map<string, Promise<JsonValue | null>>();
    const alerts: TriageAlert[] = await Promise.all(
      attached.map(async (a) => {
        if (!bodies.has(a.receiptId)) bodies.set(a.receiptId, this.body(a.receiptId));
        const body = await bodies.get(a.receiptId)!;
        return { id: a.alertId, receivedAt: a.receivedAt, alert: a.alert, raw: body === null ? null : rawItem(body, a.index) };
      }),
    );
    const links = events.filter((e): e is IncidentLinked => e instanceof IncidentLinked);
    return {
      incident: {
        id: opened.incidentId,
        number: incident.number,
        organisationId: incident.organisationId,
        projectId: incident.projectId,
        source: incident.source,
        playbook,
        title: opened.title,
        category: opened.category,
        severity: incident.severity,
        vendorSeverity: triggers.reduce<Severity>((max, a) => maxSeverity(max, a.alert.severity), opened.severity),
        status: incident.status,
        openedAt: opened.openedAt,
        alertCount: incident.alertCount,
      },
      alerts,
      group: {
        count: links.reduce((n, l) => Math.max(n, l.count), 1),
        members: links.map((l) => ({ incidentId: l.memberIncidentId, number: l.memberNumber, verdict: l.memberVerdict, score: l.memberScore })),
      },
      // The organisation's settings as they are now (an edit counts from the next step on), with the domains
      // learned up to this incident's own alerts.
      settings: await this.settings.effective(incident.organisationId, history.at(-1)?.position),
    };
  }

  /** The received body as JSON, or null when it is not (a base64 body, or unreadable). */
  private async body(receiptId: string): Promise<JsonValue | null> {
    try {
      const [recorded] = await this.store.readStream(alertStream(receiptId), { maxCount: 1 });
      const received = recorded && hydrate(recorded);
      if (!(received instanceof AlertReceived) || received.bodyEncoding !== 'utf8') return null;
      return JSON.parse(received.body) as JsonValue;
    } catch {
      return null;
    }
  }
}
