import { Injectable } from '@nestjs/common';
import { ofType, Saga, type ICommand, type IEvent } from '@nestjs/cqrs';
import { filter, map, type Observable } from 'rxjs';
import { StoreConsumer } from '../../cqrs/store-consumer';
import { AlertAttached, IncidentLinked, IncidentOpened } from '../../incidents/events/incident.events';
import { LinkIncident, StartTriage } from '../commands/triage.commands';
import { TriageCompleted } from '../events/triage.events';

export const TRIAGE_SAGA = 'triage-saga';

/**
 * Triggers only: which event asks for which command. Whether a run starts, and everything it does, is
 * decided on the incident's stream (StartTriage, then the triage worker), never held here — so the saga can
 * be replayed or skip an event without losing state. Incidents are independent partitions (their streams), so
 * several are worked on at once.
 */
@StoreConsumer({ name: TRIAGE_SAGA, events: [IncidentOpened, AlertAttached, IncidentLinked, TriageCompleted], kind: 'reactor', concurrency: 16 })
@Injectable()
export class TriageSaga {
  /** An incident of an auto-triage source opened: run its source's playbook. */
  @Saga()
  opened = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(IncidentOpened),
      filter((event) => event.triage.autoTriage),
      map((event) => new StartTriage(event.incidentId, 'opened')),
    );

  /** Another trigger alert on it (not the first, which opened it): its playbook may want to look again. */
  @Saga()
  alertAttached = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(AlertAttached),
      filter((event) => event.action === 'trigger' && event.count > 1),
      map((event) => new StartTriage(event.incidentId, `alert:${event.alertId}`)),
    );

  /** Triage folded this incident into an earlier one (a campaign, a duplicate): record it there. */
  @Saga()
  grouped = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(TriageCompleted),
      filter((event) => event.groupedInto !== null),
      map((event) => new LinkIncident(event.groupedInto!, event.incidentId, event.verdict, event.score)),
    );

  /** A group grew: judge its incident again, with the new count and its worst member. */
  @Saga()
  linked = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(IncidentLinked),
      map((event) => new StartTriage(event.incidentId, `linked:${event.memberIncidentId}`)),
    );
}
