import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../event-store/event-store.port';

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
  return metadata;
}
