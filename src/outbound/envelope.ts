import type { JsonObject } from '../event-store/event-store.port';
import { AppError } from '../http/app-error';
import { eventType, SEVERITIES, validateEventData, type Severity } from './catalog/event-catalog';
import type { SchemaError } from './catalog/json-schema';

/**
 * A security event as the seed shows it, plus `id`. The field order is the seed's (id first) and is kept
 * whenever an envelope is rendered: `toEnvelope` builds the object in that order.
 */
export interface SecurityEnvelope {
  id: string;
  event_type: string;
  organisation_id: string;
  project_id: string | null;
  /** Unix seconds. */
  timestamp: number;
  severity: Severity;
  title: string;
  description: string;
  category: string | null;
  owasp_category: string | null;
  data: JsonObject;
}

export function toEnvelope(e: SecurityEnvelope): SecurityEnvelope {
  return {
    id: e.id,
    event_type: e.event_type,
    organisation_id: e.organisation_id,
    project_id: e.project_id,
    timestamp: e.timestamp,
    severity: e.severity,
    title: e.title,
    description: e.description,
    category: e.category,
    owasp_category: e.owasp_category,
    data: e.data,
  };
}

/** What a producer says about an event; everything else comes from the catalog. */
export interface SecurityEventDraft {
  event_type: string;
  organisation_id: string;
  project_id: string | null;
  data: JsonObject;
  severity?: Severity;
  title?: string;
  description?: string;
  category?: string | null;
  owasp_category?: string | null;
}

export const invalidEvent = (message: string, details: SchemaError[]) => new AppError(400, 'invalid_event', message, details);

/**
 * Validates a draft against the catalog and completes it: the type must be catalogued, `data` must match
 * its schema, and a severity the type fixes or derives cannot be contradicted. Throws 400 `invalid_event`
 * with the schema errors (JSON Pointers from the body's root, e.g. `/data/finding_id`) in `details`.
 */
export function buildEnvelope(draft: SecurityEventDraft, id: string, now: Date): SecurityEnvelope {
  const definition = eventType(draft.event_type);
  if (!definition) {
    throw invalidEvent(`Unknown event type '${draft.event_type}' (see GET /api/event-types)`, [
      { path: '/event_type', message: 'must be a catalogued event type' },
    ]);
  }
  const errors = validateEventData(draft.event_type, draft.data).map((e) => ({ path: `/data${e.path}`, message: e.message }));
  if (errors.length > 0) throw invalidEvent(`data does not match the schema of ${draft.event_type}`, errors);

  const rule = definition.severity;
  const required = rule.rule === 'fixed' ? rule.value : rule.rule === 'derived' ? rule.derive(draft.data) : undefined;
  if (required && draft.severity && draft.severity !== required) {
    throw invalidEvent(`${draft.event_type} has severity ${required} here; it cannot be ${draft.severity}`, [
      { path: '/severity', message: `must be ${required} for ${draft.event_type}` },
    ]);
  }
  const severity = required ?? draft.severity ?? (rule.rule === 'default' ? rule.value : 'info');
  if (!SEVERITIES.includes(severity)) throw invalidEvent('Invalid severity', [{ path: '/severity', message: 'is not a severity' }]);

  const dataCategory = typeof draft.data.category === 'string' ? draft.data.category : undefined;
  const dataOwasp = typeof draft.data.owasp_category === 'string' ? draft.data.owasp_category : undefined;
  const category = draft.category !== undefined ? draft.category : (dataCategory ?? definition.category);
  const owasp = draft.owasp_category !== undefined ? draft.owasp_category : (dataOwasp ?? null);
  const title = draft.title ?? definition.title(draft.data, severity);
  return {
    id,
    event_type: draft.event_type,
    organisation_id: draft.organisation_id,
    project_id: draft.project_id,
    timestamp: Math.floor(now.getTime() / 1000),
    severity,
    title,
    // The seed's description is the title with the OWASP category appended, when there is one.
    description: draft.description ?? (owasp ? `${title} [${owasp}]` : title),
    category,
    owasp_category: owasp,
    data: draft.data,
  };
}
