import { TAGS } from '../../http/openapi/tags';
import { EVENT_TYPES, OPERATOR_NOTICES, SEVERITIES, type EventTypeDefinition } from '../catalog/event-catalog';
import { USER_AGENT } from '../delivery/delivery-attempts';
import { renderBody, renderPayload } from '../delivery/formats';
import { signatureHeaders } from '../delivery/signing';
import { buildEnvelope } from '../envelope';
import { WEBHOOK_FORMATS } from '../events/webhook.events';
import { deliveryIdFor } from '../ids';

/**
 * The `webhooks:` section of the OpenAPI 3.1 document: what Towline POSTs to a webhook, one entry per event
 * type it can deliver (the catalogue's types, then its own operator notices), each with the JSON Schema of its
 * `data` — the very schema GET /api/event-types serves — in the envelope, and in the Splunk HEC, Slack and
 * Teams formats a webhook can choose instead. The examples are rendered by the delivery code itself
 * (buildEnvelope, renderPayload) from the catalogue's example data, so they are what a receiver gets.
 *
 * Every signature header is a parameter with how to verify it. The signature header's name is the default
 * (TW_SIGNATURE_HEADER may rename it on a deployment).
 */
export function outboundWebhooks(): { webhooks: Record<string, unknown>; schemas: Record<string, unknown> } {
  const schemas: Record<string, unknown> = {
    SecurityEventEnvelope: ENVELOPE_SCHEMA,
    SplunkHecEvent: SPLUNK_HEC_SCHEMA,
    SlackMessage: SLACK_SCHEMA,
    TeamsMessage: TEAMS_SCHEMA,
  };
  const webhooks: Record<string, unknown> = {};
  for (const definition of [...EVENT_TYPES, ...OPERATOR_NOTICES]) {
    const name = schemaName(definition.type);
    schemas[`${name}Data`] = definition.schema;
    webhooks[definition.type] = { post: webhookOperation(definition, name) };
  }
  return { webhooks, schemas };
}

/** `finding.created` → `FindingCreated`, `message.attempt.exhausted` → `MessageAttemptExhausted`. */
export function schemaName(type: string): string {
  return type
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const EXAMPLE_ORGANISATION = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const EXAMPLE_PROJECT = '0b1c2d3e-4f5a-4b6c-8d7e-8f9a0b1c2d3e';
const EXAMPLE_EVENT = '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a';
const EXAMPLE_WEBHOOK = '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d';
/** The secret the header examples are signed with: check your verifier against an example before going live. */
export const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const EXAMPLE_TIME = new Date('2026-01-15T10:00:00Z');

function webhookOperation(definition: EventTypeDefinition, name: string) {
  const notice = OPERATOR_NOTICES.includes(definition);
  const envelopeOfType = {
    allOf: [
      ref('SecurityEventEnvelope'),
      { type: 'object', properties: { event_type: { const: definition.type }, data: ref(`${name}Data`) } },
    ],
  };
  const envelope = buildEnvelope(
    { event_type: definition.type, organisation_id: EXAMPLE_ORGANISATION, project_id: notice ? null : EXAMPLE_PROJECT, data: definition.example },
    EXAMPLE_EVENT,
    EXAMPLE_TIME,
  );
  const context = { publicUrl: 'https://towline.example.com/events/{event_id}', host: 'towline-1' };
  const examples = Object.fromEntries(
    WEBHOOK_FORMATS.map((format) => [format, { summary: `format: ${format}`, value: renderPayload(format, envelope, context) }]),
  );
  // The headers of the envelope example's delivery, signed with EXAMPLE_SECRET by the delivery code itself.
  const signed = signatureHeaders({
    deliveryId: deliveryIdFor(EXAMPLE_EVENT, EXAMPLE_WEBHOOK),
    eventType: definition.type,
    timestamp: Math.floor(EXAMPLE_TIME.getTime() / 1000),
    body: renderBody('envelope', envelope, context),
    secrets: [EXAMPLE_SECRET],
    signatureHeader: 'X-Towline-Signature',
  });
  return {
    operationId: `on${name}`,
    summary: definition.description,
    description:
      `Towline POSTs this when ${notice ? 'it has this to tell the operator (only to webhooks whose event_types list it)' : `a \`${definition.type}\` security event is recorded`} ` +
      `to every webhook of the organisation that subscribes to it. Severity: ${severityText(definition)}. The body is the envelope, or its ` +
      'Splunk HEC, Slack or Teams rendering, as the webhook\'s `format` says. ' +
      VERIFY +
      ` The header examples are those of the \`envelope\` example's delivery, signed with the secret \`${EXAMPLE_SECRET}\`: check a verifier against them.`,
    tags: [TAGS.webhooks.name],
    security: [],
    parameters: HEADERS.map((parameter) => ({ ...parameter, example: signed[parameter.name] ?? parameter.example })),
    requestBody: {
      required: true,
      description: "The webhook's format decides the shape: `envelope` (default), `splunk_hec`, `slack` or `teams`.",
      content: {
        'application/json': {
          schema: {
            oneOf: [
              { title: 'envelope', ...envelopeOfType },
              { title: 'splunk_hec', allOf: [ref('SplunkHecEvent'), { type: 'object', properties: { event: envelopeOfType } }] },
              { title: 'slack', ...ref('SlackMessage') },
              { title: 'teams', ...ref('TeamsMessage') },
            ],
          },
          examples,
        },
      },
    },
    responses: {
      '2XX': { description: 'Delivered: any 2xx acknowledges it (the body is ignored, and kept in the attempt, first 4 KiB).' },
      '4XX': {
        description:
          'Refused: not retried (the same bytes would be refused again); the dead letter can be redelivered. Except 408, 425 and 429 ' +
          '(retried; 429 is back-pressure, honouring Retry-After) and 410 Gone (the webhook is disabled).',
      },
      '5XX': { description: 'Failed: retried with exponential backoff (3 retries), honouring Retry-After; 503 with Retry-After is back-pressure.' },
    },
  };
}

function severityText(definition: EventTypeDefinition): string {
  const rule = definition.severity;
  if (rule.rule === 'fixed') return `always ${rule.value}`;
  if (rule.rule === 'default') return `${rule.value} unless the publisher says otherwise`;
  return rule.description;
}

const VERIFY =
  'Verify either signature over the raw body before parsing it. Towline\'s (the seed\'s): `X-Towline-Signature: sha256=<hex>` is ' +
  'HMAC-SHA256 of the raw body keyed by the UTF-8 bytes of the whole secret string; in Python: ' +
  '`hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), signature.removeprefix("sha256="))`. ' +
  'Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64>` values, each HMAC-SHA256 of ' +
  '`<webhook-id>.<webhook-timestamp>.<raw body>` keyed by the base64-decoded bytes after `whsec_` (a plain shared secret: its UTF-8 bytes); ' +
  'any of them matching verifies, and `webhook-timestamp` should be within 5 minutes of your clock. A standardwebhooks library verifies ' +
  'it: `new Webhook(secret).verify(body, headers)`. Deduplicate on `webhook-id` (= `X-Towline-Delivery`): it is the same on every attempt.';

const header = (name: string, description: string, example: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema,
  example,
});

const HEADERS = [
  header(
    'X-Towline-Signature',
    "`sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the UTF-8 bytes of the webhook's secret. The seed's verify() checks it unchanged. " +
      'During a secret rotation it is signed with the oldest live secret until its grace period ends. The name is TW_SIGNATURE_HEADER (this is the default).',
    'sha256=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd',
    { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' },
  ),
  header('X-Towline-Event', 'The event type, as in the body’s `event_type`.', 'finding.created'),
  header('X-Towline-Delivery', 'The delivery id: the same on every attempt of one delivery, so a receiver can deduplicate.', 'dlv_2q3Xp9sVJ7yK1mN4bC6dF8gH0j'),
  header('X-Towline-Timestamp', 'Unix seconds of this attempt.', '1768471200', { type: 'string', pattern: '^\\d+$' }),
  header('webhook-id', 'Standard Webhooks: the message id (the delivery id).', 'dlv_2q3Xp9sVJ7yK1mN4bC6dF8gH0j'),
  header('webhook-timestamp', 'Standard Webhooks: Unix seconds of this attempt, signed with the body.', '1768471200', { type: 'string', pattern: '^\\d+$' }),
  header(
    'webhook-signature',
    'Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`, one per live secret ' +
      '(two during a rotation’s grace period), keyed by the base64-decoded bytes after `whsec_`, or a plain shared secret’s UTF-8 bytes.',
    'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  ),
  header('User-Agent', 'Who is calling.', USER_AGENT),
];

const ENVELOPE_SCHEMA = {
  type: 'object',
  description: "A security event as delivered in the `envelope` format (the seed's, with `id`), fields in this order.",
  required: ['id', 'event_type', 'organisation_id', 'project_id', 'timestamp', 'severity', 'title', 'description', 'category', 'owasp_category', 'data'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'The event id (the same in every delivery of it)' },
    event_type: { type: 'string', description: 'A type of the catalogue (GET /api/event-types) or an operator notice' },
    organisation_id: { type: 'string', format: 'uuid' },
    project_id: { type: ['string', 'null'], format: 'uuid' },
    timestamp: { type: 'integer', description: 'Unix seconds' },
    severity: { type: 'string', enum: [...SEVERITIES] },
    title: { type: 'string' },
    description: { type: 'string', description: 'The title, with the OWASP category appended when there is one' },
    category: { type: ['string', 'null'] },
    owasp_category: { type: ['string', 'null'], examples: ['LLM01'] },
    data: { type: 'object', description: "The event type's payload: its schema is the type's (components `<Type>Data`)" },
  },
};

const SPLUNK_HEC_SCHEMA = {
  type: 'object',
  description: 'Splunk HTTP Event Collector (`/services/collector/event`): the envelope is the `event`. Put the HEC token in the webhook’s headers (`Authorization: Splunk <token>`).',
  required: ['time', 'host', 'source', 'sourcetype', 'event'],
  properties: {
    time: { type: 'integer', description: 'Epoch seconds (the envelope’s timestamp)' },
    host: { type: 'string', description: 'The Towline instance' },
    source: { const: 'towline' },
    sourcetype: { const: 'towline:security_event' },
    event: ref('SecurityEventEnvelope'),
  },
};

const SLACK_SCHEMA = {
  type: 'object',
  description: 'Slack incoming webhook: `text` (the notification fallback) and Block Kit `blocks` (header, fields, description, a "View in Towline" button when TW_PUBLIC_URL is set).',
  required: ['text', 'blocks'],
  properties: {
    text: { type: 'string', maxLength: 3000 },
    // Block Kit blocks: the kinds Towline sends; their other fields are Slack's (api.slack.com/reference/block-kit/blocks).
    blocks: {
      type: 'array',
      maxItems: 50,
      items: { type: 'object', required: ['type'], properties: { type: { enum: ['header', 'section', 'actions'] } }, additionalProperties: true },
    },
  },
};

const TEAMS_SCHEMA = {
  type: 'object',
  description: 'Microsoft Teams Workflows webhook: a message with one Adaptive Card (1.4) attachment.',
  required: ['type', 'attachments'],
  properties: {
    type: { const: 'message' },
    attachments: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['contentType', 'content'],
        properties: {
          contentType: { const: 'application/vnd.microsoft.card.adaptive' },
          contentUrl: { type: 'null' },
          content: {
            type: 'object',
            required: ['type', 'version', 'body'],
            // The card's elements are Adaptive Card elements (adaptivecards.io): TextBlock and FactSet here.
            properties: {
              $schema: { type: 'string' },
              type: { const: 'AdaptiveCard' },
              version: { const: '1.4' },
              body: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, additionalProperties: true } },
              actions: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, additionalProperties: true } },
            },
          },
        },
      },
    },
  },
};
