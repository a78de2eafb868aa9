import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { JsonObject, Position } from '../event-store/event-store.port';

/**
 * Who is acting and on whose behalf, carried through async calls so that every event written while serving a
 * request (or while a consumer handles an event) is stamped with the actor, correlation and causation.
 */
export interface RequestContext {
  requestId?: string;
  correlationId: string;
  /** The event or request that caused the work. */
  causationId: string;
  /** e.g. 'admin', 'api-key:<id>', 'system:<consumer>'. Never key material. */
  actor: string;
  organisationId?: string;
  /** The last position this request's writes reached once its read models showed them (the consistency token). */
  written?: Position;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function eventMetadata(): JsonObject {
  const context = storage.getStore();
  const fallback = randomUUID();
  const metadata: JsonObject = {
    $correlationId: context?.correlationId ?? fallback,
    $causationId: context?.causationId ?? fallback,
    actor: context?.actor ?? 'system',
  };
  if (context?.requestId) metadata.request_id = context.requestId;
  if (context?.organisationId) metadata.organisationId = context.organisationId;
  return metadata;
}

/**
 * The organisation an event belongs to, from what it says itself: its metadata, else its data (most events
 * name their organisation; a security event's envelope does). Undefined for instance-level events and for
 * events that only their stream's first event ties to an organisation (audit derives those from the stream).
 */
export function organisationNamedBy(data: JsonObject, metadata: JsonObject | undefined): string | undefined {
  const candidates = [metadata?.organisationId, data.organisationId, (data.envelope as JsonObject | undefined)?.organisation_id];
  const found = candidates.find((value) => typeof value === 'string' && value.length > 0);
  return found as string | undefined;
}
