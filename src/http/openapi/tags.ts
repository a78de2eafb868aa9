/**
 * The tags of the OpenAPI document, in the order a reader meets them. Inbound (sources and the alerts they
 * post) and outbound (webhooks, their deliveries and the security events they carry) are separate tags, so a
 * generated SDK and Swagger UI never mix the two kinds of "webhook". Controllers name their tag from here.
 */
export const TAGS = {
  organisations: { name: 'Organisations', description: 'Tenants. Every other resource belongs to one organisation (`default` names the default one).' },
  apiKeys: { name: 'API keys', description: "An organisation's bearer keys and their scopes; a key is shown once, when issued." },
  projects: {
    name: 'Projects',
    description: 'Projects of an organisation: what sources, security events and webhook filters are scoped to, and whether monitoring is paused.',
  },
  sources: {
    name: 'Sources (inbound)',
    description: 'The external security tools allowed to post alerts (Microsoft Defender, CrowdStrike, Splunk, generic): registration, settings, signing secrets.',
  },
  alerts: {
    name: 'Alerts (inbound)',
    description: 'The receiver the sources post to, authenticated by an HMAC signature instead of an API key, and its queue.',
  },
  incidents: { name: 'Incidents', description: 'What alerts become: listed, read with their timeline, and moved through their lifecycle.' },
  triage: { name: 'Triage', description: "Auto-triage: an organisation's settings and lists, and re-running the playbook on an incident." },
  webhooks: {
    name: 'Webhooks (outbound)',
    description: "Where an organisation's security events are delivered (SIEMs, ticketing, chat), signed; the payloads are under `webhooks:`.",
  },
  deliveries: { name: 'Deliveries (outbound)', description: 'Each attempt to deliver a security event to a webhook, redelivery and dead-letter recovery.' },
  securityEvents: { name: 'Security events', description: "An organisation's outbound security-event log: publish and read." },
  eventTypes: { name: 'Event types', description: 'The catalogue of security event types and the JSON Schema of each one’s data.' },
  audit: { name: 'Audit', description: 'The immutable event log: streams, hash-chain verification, signed checkpoints, traces, replay.' },
  operations: { name: 'Operations', description: 'For the instance operator: logs, the read side’s parked events, store backup and copy.' },
  health: { name: 'Health', description: 'Probes and metrics, without an API key.' },
} as const;

export type TagKey = keyof typeof TAGS;
