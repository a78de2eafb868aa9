import { SEVERITIES, type Severity } from '../../contracts/alert';
import type { JsonObject } from '../../event-store/event-store.port';
import { compileSchema, type JsonSchema, type Validator } from './json-schema';

/** Security events use Towline's one severity scale (re-exported: the catalog's users read it from here). */
export { SEVERITIES, type Severity };

/** Posture grades, best first (letter grades: there is no E). */
export const GRADES = ['A', 'B', 'C', 'D', 'F'] as const;
export type Grade = (typeof GRADES)[number];

/**
 * How an event's envelope severity is set: `fixed` by its type (the seed says e.g. "always high"),
 * `derived` from its data by `derive`, or a `default` the producer may override.
 */
export type SeverityRule =
  | { rule: 'fixed'; value: Severity }
  | { rule: 'derived'; description: string; derive(data: JsonObject): Severity }
  | { rule: 'default'; value: Severity };

export interface EventTypeDefinition {
  type: string;
  description: string;
  /** The envelope's `category` when the producer gives none (finding types fall back to data.category). */
  category: string;
  severity: SeverityRule;
  /** JSON Schema of the envelope's `data`. */
  schema: JsonSchema;
  /** A valid `data`, used for test deliveries and shown in GET /api/event-types. */
  example: JsonObject;
  /** The envelope's title when the producer gives none. */
  title(data: JsonObject, severity: Severity): string;
}

const text = (max = 500): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max });
const nullableText = (max = 500): JsonSchema => ({ type: ['string', 'null'], maxLength: max });
const severity: JsonSchema = { type: 'string', enum: SEVERITIES };
const grade: JsonSchema = { type: 'string', enum: GRADES };
const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
const count: JsonSchema = { type: 'integer', minimum: 0 };
const findingId: JsonSchema = { ...text(200), description: 'Stable id of the finding (for incidents: the incident id)' };

function object(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: true };
}

const str = (data: JsonObject, key: string, fallback: string) => (typeof data[key] === 'string' ? (data[key] as string) : fallback);

/**
 * The 14 event types of the seed, each with the schema of its `data`. Extra properties in `data` are
 * allowed (producers may add context); the listed ones are checked.
 */
export const EVENT_TYPES: readonly EventTypeDefinition[] = [
  {
    type: 'finding.created',
    description: 'New security vulnerability discovered. Severity varies by finding.',
    category: 'finding',
    severity: { rule: 'derived', description: "the finding's own severity (data.severity)", derive: (data) => data.severity as Severity },
    schema: object(
      {
        finding_id: findingId,
        title: text(),
        severity,
        category: nullableText(100),
        owasp_category: nullableText(32),
        source: nullableText(100),
        incident_number: nullableText(32),
        detected_at: timestamp,
        evidence: { type: 'object' },
      },
      ['finding_id', 'title', 'severity'],
    ),
    example: { finding_id: 'f-1024', title: 'Prompt Injection via System Override', severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
    title: (data, sev) => `New ${sev} finding: ${str(data, 'title', 'untitled')}`,
  },
  {
    type: 'finding.regressed',
    description: 'Previously fixed finding has reappeared. Always high severity.',
    category: 'finding',
    severity: { rule: 'fixed', value: 'high' },
    schema: object(
      {
        finding_id: findingId,
        title: text(),
        original_severity: severity,
        regression_count: { type: 'integer', minimum: 1 },
        previously_resolved_at: { type: ['string', 'null'], format: 'date-time' },
        category: nullableText(100),
        incident_number: nullableText(32),
      },
      ['finding_id', 'title'],
    ),
    example: { finding_id: 'f-1024', title: 'Prompt Injection via System Override', regression_count: 1 },
    title: (data) => `Finding regressed: ${str(data, 'title', 'untitled')}`,
  },
  {
    type: 'finding.assigned',
    description: 'Finding assigned to a team member for remediation.',
    category: 'finding',
    severity: { rule: 'default', value: 'info' },
    schema: object({ finding_id: findingId, title: text(), assignee: text(200), assigned_by: nullableText(200) }, ['finding_id', 'assignee']),
    example: { finding_id: 'f-1024', title: 'Prompt Injection via System Override', assignee: 'alice@example.com' },
    title: (data) => `Finding assigned to ${str(data, 'assignee', 'someone')}: ${str(data, 'title', str(data, 'finding_id', ''))}`,
  },
  {
    type: 'finding.acknowledged',
    description: 'Team acknowledges a finding and begins investigation.',
    category: 'finding',
    severity: { rule: 'default', value: 'info' },
    schema: object({ finding_id: findingId, title: text(), acknowledged_by: nullableText(200), note: nullableText(2000) }, ['finding_id']),
    example: { finding_id: 'f-1024', acknowledged_by: 'alice@example.com' },
    title: (data) => `Finding acknowledged: ${str(data, 'title', str(data, 'finding_id', ''))}`,
  },
  {
    type: 'finding.resolution_verified',
    description: 'Fix verified through re-testing. Finding resolved.',
    category: 'finding',
    severity: { rule: 'default', value: 'info' },
    schema: object({ finding_id: findingId, title: text(), test_id: nullableText(200), verified_at: timestamp }, ['finding_id']),
    example: { finding_id: 'f-1024', test_id: 'retest-77' },
    title: (data) => `Fix verified: ${str(data, 'title', str(data, 'finding_id', ''))}`,
  },
  {
    type: 'finding.resolution_failed',
    description: 'Re-test shows the fix was ineffective.',
    category: 'finding',
    severity: { rule: 'default', value: 'high' },
    schema: object({ finding_id: findingId, title: text(), test_id: nullableText(200), reason: nullableText(2000) }, ['finding_id']),
    example: { finding_id: 'f-1024', test_id: 'retest-78', reason: 'Payload still bypasses the filter' },
    title: (data) => `Fix failed re-test: ${str(data, 'title', str(data, 'finding_id', ''))}`,
  },
  {
    type: 'posture.grade_changed',
    description: 'Security posture grade changed (e.g., B -> D). High if degraded.',
    category: 'posture',
    severity: { rule: 'derived', description: 'high when degraded, else info', derive: (data) => (data.degraded === true ? 'high' : 'info') },
    schema: object(
      {
        from: grade,
        to: grade,
        degraded: { type: 'boolean' },
        score: { type: 'integer', minimum: 0 },
        open_incidents: object({ critical: count, high: count, medium: count, low: count, info: count }, []),
      },
      ['from', 'to', 'degraded'],
    ),
    example: { from: 'B', to: 'D', degraded: true, score: 12, open_incidents: { critical: 1, high: 0, medium: 1, low: 0, info: 0 } },
    title: (data) => `Security posture ${data.degraded === true ? 'degraded' : 'improved'}: ${str(data, 'from', '?')} -> ${str(data, 'to', '?')}`,
  },
  {
    type: 'drift.detected',
    description: 'Statistical behavioral drift detected in agent responses.',
    category: 'drift',
    severity: { rule: 'default', value: 'medium' },
    schema: object(
      {
        metric: text(100),
        source: nullableText(100),
        direction: { type: 'string', enum: ['up', 'down'] },
        observed: { type: 'number' },
        baseline_mean: { type: 'number' },
        baseline_stddev: { type: 'number', minimum: 0 },
        z_score: { type: 'number' },
        threshold: { type: 'number', minimum: 0 },
        samples: count,
        bucket_start: timestamp,
        bucket_seconds: { type: 'integer', minimum: 1 },
      },
      ['metric', 'observed', 'baseline_mean', 'z_score'],
    ),
    example: { metric: 'alert_volume', source: 'edr', direction: 'up', observed: 48, baseline_mean: 6.2, baseline_stddev: 2.1, z_score: 19.9, threshold: 3, samples: 24 },
    title: (data) => `Drift detected in ${str(data, 'metric', 'a metric')}${typeof data.source === 'string' ? ` of ${data.source}` : ''}`,
  },
  {
    type: 'campaign.completed',
    description: 'ASCAM campaign finished with before/after posture delta.',
    category: 'campaign',
    severity: { rule: 'default', value: 'info' },
    schema: object(
      { campaign_id: text(200), name: nullableText(200), posture_before: grade, posture_after: grade, findings: count, completed_at: timestamp },
      ['campaign_id'],
    ),
    example: { campaign_id: 'c-12', name: 'Quarterly assessment', posture_before: 'C', posture_after: 'B', findings: 4 },
    title: (data) => `Campaign completed: ${str(data, 'name', str(data, 'campaign_id', ''))}`,
  },
  {
    type: 'ascam.activity_started',
    description: 'ASCAM activity transitioned (e.g., Assess -> Investigate).',
    category: 'monitoring',
    severity: { rule: 'default', value: 'info' },
    schema: object({ activity: text(100), previous_activity: nullableText(100), campaign_id: nullableText(200) }, ['activity']),
    example: { activity: 'Investigate', previous_activity: 'Assess' },
    title: (data) => `Activity started: ${str(data, 'activity', '')}`,
  },
  {
    type: 'ascam.paused',
    description: 'Continuous monitoring paused for a project. Medium severity.',
    category: 'monitoring',
    severity: { rule: 'fixed', value: 'medium' },
    schema: object({ reason: nullableText(1000), paused_by: nullableText(200), paused_at: timestamp }, []),
    example: { reason: 'Maintenance window', paused_by: 'admin' },
    title: () => 'Continuous monitoring paused',
  },
  {
    type: 'ascam.resumed',
    description: 'Continuous monitoring resumed for a project.',
    category: 'monitoring',
    severity: { rule: 'default', value: 'info' },
    schema: object({ resumed_by: nullableText(200), resumed_at: timestamp, paused_seconds: count }, []),
    example: { resumed_by: 'admin', paused_seconds: 3600 },
    title: () => 'Continuous monitoring resumed',
  },
  {
    type: 'quality.degraded',
    description: 'Quality score dropped below threshold.',
    category: 'quality',
    severity: { rule: 'default', value: 'medium' },
    schema: object({ metric: text(100), score: { type: 'number' }, threshold: { type: 'number' }, previous_score: { type: ['number', 'null'] } }, [
      'metric',
      'score',
      'threshold',
    ]),
    example: { metric: 'answer_relevance', score: 0.61, threshold: 0.75, previous_score: 0.82 },
    title: (data) => `Quality degraded: ${str(data, 'metric', '')} below threshold`,
  },
  {
    type: 'quality.regression',
    description: 'Previously fixed quality issue has reappeared.',
    category: 'quality',
    severity: { rule: 'default', value: 'medium' },
    schema: object({ issue_id: text(200), title: text(), metric: nullableText(100) }, ['issue_id']),
    example: { issue_id: 'q-88', title: 'Hallucinated citations', metric: 'faithfulness' },
    title: (data) => `Quality regression: ${str(data, 'title', str(data, 'issue_id', ''))}`,
  },
];

export const EVENT_TYPE_NAMES = EVENT_TYPES.map((d) => d.type);

/**
 * Towline's own operator notices, outside the seed's 14 (named after Svix's): about delivery itself, so a
 * webhook gets them only when its `event_types` lists them, never about its own failures, and nobody can
 * publish them through the API. Their deliveries are plain deliveries, except that a notice's own dead
 * letter makes no further notice.
 */
export const OPERATOR_NOTICES: readonly EventTypeDefinition[] = [
  {
    type: 'message.attempt.exhausted',
    description: 'A delivery to one of the organisation\'s webhooks was dead-lettered (every retry failed, or its deadline passed). Towline\'s own operator notice.',
    category: 'delivery',
    severity: { rule: 'fixed', value: 'medium' },
    schema: object(
      {
        webhook_id: text(64),
        delivery_id: text(64),
        event_id: text(64),
        event_type: text(100),
        attempts: count,
        reason: text(100),
        last_error: nullableText(200),
        failed_at: timestamp,
      },
      ['webhook_id', 'delivery_id', 'event_id', 'event_type', 'attempts', 'reason'],
    ),
    example: {
      webhook_id: '0d9c6b1e-3f4a-4a8e-9a51-2c7d1e5b9f00',
      delivery_id: '5b7e2c1d-8a3f-5e4b-9c6d-1f2e3a4b5c6d',
      event_id: '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f',
      event_type: 'finding.created',
      attempts: 4,
      reason: 'retries_exhausted',
      last_error: 'server_error',
      failed_at: '2026-01-01T01:51:00.000Z',
    },
    title: (data) => `Delivery dead-lettered: ${str(data, 'event_type', 'an event')} to webhook ${str(data, 'webhook_id', '')}`,
  },
  {
    type: 'endpoint.disabled',
    description: 'Towline disabled one of the organisation\'s webhooks (it answered 410 Gone, or failed continuously). Towline\'s own operator notice.',
    category: 'delivery',
    severity: { rule: 'fixed', value: 'high' },
    schema: object(
      { webhook_id: text(64), reason: text(100), failing_since: { type: ['string', 'null'], format: 'date-time' }, disabled_at: timestamp },
      ['webhook_id', 'reason'],
    ),
    example: { webhook_id: '0d9c6b1e-3f4a-4a8e-9a51-2c7d1e5b9f00', reason: 'failing', failing_since: '2026-01-01T00:00:00.000Z', disabled_at: '2026-01-06T00:00:00.000Z' },
    title: (data) => `Webhook ${str(data, 'webhook_id', '')} disabled (${str(data, 'reason', '')})`,
  },
  {
    type: 'audit.checkpoint',
    description:
      "A signed ledger checkpoint of the organisation's streams (docs/audit.md), sent out of Towline as it is made, so that a rewritten " +
      'history is caught even by someone who can recompute every hash in the database. `checkpoint` is the ledger event\'s data exactly as ' +
      'recorded: its Ed25519 `signature` covers RFC 8785 of `checkpoint` without `signature`, under `publicKey` (the raw 32-byte key, base64; also served at GET /api/audit/public-key). Towline\'s own notice.',
    category: 'audit',
    severity: { rule: 'fixed', value: 'info' },
    schema: object(
      {
        ledger: text(200),
        sequence: { type: 'integer', minimum: 1 },
        streams: count,
        checkpoint: object({ signature: text(200), publicKey: text(200), keyId: text(200), to: text(100) }, ['signature', 'publicKey', 'keyId', 'to']),
      },
      ['ledger', 'sequence', 'checkpoint'],
    ),
    example: {
      ledger: 'ledger-1bbabc39-0e2a-4716-813f-0cf04efb0308',
      sequence: 7,
      streams: 1,
      checkpoint: {
        organisationId: '1bbabc39-0e2a-4716-813f-0cf04efb0308',
        sequence: 7,
        from: '1200/1200',
        to: '1290/1290',
        createdAt: '2026-01-01T00:15:00.000Z',
        streams: [{ stream: 'incident-7258c5ea-048e-800c-9cc8-9cfdfab69a60', revision: 4, hash: '9b1c…' }],
        algorithm: 'Ed25519',
        publicKey: 'yV7cHk2S3X4b…',
        keyId: 'a1b2c3d4',
        signature: 'u3Jx…',
      },
    },
    title: (data) => `Ledger checkpoint ${String(data.sequence ?? '')} of ${str(data, 'ledger', 'the organisation')}`,
  },
];

export const OPERATOR_NOTICE_TYPES = OPERATOR_NOTICES.map((d) => d.type);
/** What a webhook's `event_types` may list. */
export const SUBSCRIBABLE_EVENT_TYPES = [...EVENT_TYPE_NAMES, ...OPERATOR_NOTICE_TYPES];
export const isOperatorNotice = (type: string): boolean => OPERATOR_NOTICE_TYPES.includes(type);

const definitions = new Map([...EVENT_TYPES, ...OPERATOR_NOTICES].map((definition) => [definition.type, definition]));
const validators = new Map<string, Validator>([...EVENT_TYPES, ...OPERATOR_NOTICES].map((definition) => [definition.type, compileSchema(definition.schema)]));

export function eventType(type: string): EventTypeDefinition | undefined {
  return definitions.get(type);
}

export const isEventType = (value: unknown): value is string => typeof value === 'string' && definitions.has(value);

export function validateEventData(type: string, data: unknown) {
  const validator = validators.get(type);
  if (!validator) throw new Error(`Unknown event type '${type}'`);
  return validator(data);
}
