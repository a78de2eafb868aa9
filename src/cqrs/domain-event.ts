import { createHash, randomUUID } from 'node:crypto';
import type { IEvent } from '@nestjs/cqrs';
import type { EventData, JsonObject, Position, RecordedEvent } from '../event-store/event-store.port';
import { jcs } from '../event-store/hash-chain';
import { organisationNamedBy } from './request-context';

/**
 * Domain events are classes (for @nestjs/cqrs handlers, sagas and `ofType`) stored under a stable type string,
 * never the class name, so renaming a class cannot orphan stored events. Their own enumerable properties are
 * the stored `data`, so every property must be JSON.
 */
type EventClass = abstract new (...args: never[]) => IEvent;

const classesByType = new Map<string, EventClass>();
const typesByClass = new Map<EventClass, string>();

export function DomainEvent(type: string) {
  return (target: EventClass): void => {
    const existing = classesByType.get(type);
    if (existing && existing !== target) throw new Error(`Event type '${type}' is registered twice`);
    classesByType.set(type, target);
    typesByClass.set(target, type);
  };
}

/** Every event class registered so far: for a consumer that reads the whole log (audit's stream index). */
export function registeredEventClasses(): EventClass[] {
  return [...classesByType.values()];
}

export function eventTypeOf(eventClass: EventClass): string {
  const type = typesByClass.get(eventClass);
  if (!type) throw new Error(`${eventClass.name} is not decorated with @DomainEvent`);
  return type;
}

export function toEventData(event: IEvent, metadata: JsonObject, id: string = randomUUID()): EventData {
  // One serialization gives both the plain data (the class instance's JSON) and its digest.
  const text = jcs(event);
  const data = JSON.parse(text) as JsonObject;
  return { id, type: eventTypeOf(event.constructor as EventClass), data, metadata: auditMetadata(data, metadata, text) };
}

/**
 * What audit needs on every event besides the chain hash: its organisation (who may read it), and the digest of
 * its data alone, so that verification can say whether an edited event had its data or its metadata changed
 * (the chain hash covers both at once). See docs/audit.md.
 */
function auditMetadata(data: JsonObject, metadata: JsonObject, dataJcs: string): JsonObject {
  const organisationId = organisationNamedBy(data, metadata);
  return {
    ...metadata,
    ...(organisationId === undefined ? {} : { organisationId }),
    data_hash: createHash('sha256').update(dataJcs, 'utf8').digest('hex'),
  };
}

/** The class instance for a stored event, or undefined for a type this build does not know. */
export function hydrate(recorded: Pick<RecordedEvent, 'type' | 'data'>): IEvent | undefined {
  const eventClass = classesByType.get(recorded.type);
  if (!eventClass) return undefined;
  return Object.assign(Object.create(eventClass.prototype as object) as IEvent, recorded.data);
}

/** Where and when a consumer's event was recorded, beside the event itself. */
export interface EventContext {
  id: string;
  stream: string;
  revision: bigint;
  position: Position;
  metadata: JsonObject;
  created: Date;
}

export function contextOf(recorded: RecordedEvent): EventContext {
  const { id, stream, revision, position, metadata, created } = recorded;
  return { id, stream, revision, position, metadata, created };
}
