import { hostname } from 'node:os';
import type { SecurityEnvelope } from '../envelope';
import { toEnvelope } from '../envelope';
import type { WebhookFormat } from '../events/webhook.events';
import { truncateText } from '../../http/text';
import { fillPublicUrl } from '../../config/outbound-settings';

export interface RenderContext {
  /** TW_PUBLIC_URL, the template of links back to the event; null leaves links out. */
  publicUrl: string | null;
  /** The `host` of Splunk HEC events. */
  host?: string;
}

/** The exact bytes posted for an event in a webhook's format. Every format is JSON. */
export function renderBody(format: WebhookFormat, envelope: SecurityEnvelope, context: RenderContext): Buffer {
  return Buffer.from(JSON.stringify(renderPayload(format, envelope, context)), 'utf8');
}

export function renderPayload(format: WebhookFormat, envelope: SecurityEnvelope, context: RenderContext): unknown {
  switch (format) {
    case 'envelope':
      return toEnvelope(envelope);
    case 'splunk_hec':
      return splunkHec(envelope, context);
    case 'slack':
      return slack(envelope, context);
    case 'teams':
      return teams(envelope, context);
  }
}

/**
 * The "View in Towline" link: TW_PUBLIC_URL with its placeholders filled. It used to be the API's URL of the
 * event, which a browser opens without a key (401); where a page for the event lives is the operator's call
 * (a UI, a SIEM search, a ticket view), so the template says it.
 */
export function eventLink(envelope: SecurityEnvelope, publicUrl: string | null): string | null {
  if (!publicUrl) return null;
  return fillPublicUrl(publicUrl, {
    organisation_id: envelope.organisation_id,
    event_id: envelope.id,
    event_type: envelope.event_type,
    project_id: envelope.project_id,
  });
}

/**
 * Splunk HTTP Event Collector, `/services/collector/event` shape: the envelope is the `event`, `time` is
 * numeric epoch seconds, and Splunk's own metadata fields name Towline. The HEC token goes in the
 * webhook's headers (`Authorization: Splunk <token>`).
 */
function splunkHec(envelope: SecurityEnvelope, context: RenderContext) {
  return {
    time: envelope.timestamp,
    host: context.host ?? hostname(),
    source: 'towline',
    sourcetype: 'towline:security_event',
    event: toEnvelope(envelope),
  };
}

const SEVERITY_LABEL: Record<SecurityEnvelope['severity'], string> = {
  critical: ':red_circle: Critical',
  high: ':large_orange_circle: High',
  medium: ':large_yellow_circle: Medium',
  low: ':large_blue_circle: Low',
  info: ':white_circle: Info',
};

/** Slack's mrkdwn needs only these three escaped. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (text: string, max: number) => truncateText(text, max);

/**
 * Slack incoming webhook: `text` (the notification fallback Slack requires) and Block Kit `blocks` with the
 * severity, the title, the description and a button linking to the event. Block limits respected (header
 * 150, section text 3000, field 2000 characters).
 */
function slack(envelope: SecurityEnvelope, context: RenderContext) {
  const link = eventLink(envelope, context.publicUrl);
  const fields = [
    { type: 'mrkdwn', text: `*Severity*\n${SEVERITY_LABEL[envelope.severity]}` },
    { type: 'mrkdwn', text: `*Event*\n\`${envelope.event_type}\`` },
  ];
  if (envelope.project_id) fields.push({ type: 'mrkdwn', text: `*Project*\n\`${envelope.project_id}\`` });
  if (envelope.owasp_category) fields.push({ type: 'mrkdwn', text: `*OWASP*\n${slackEscape(envelope.owasp_category)}` });
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(envelope.title, 150), emoji: true } },
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(envelope.description), 3000) } },
  ];
  if (link) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View in Towline' }, url: link }] });
  }
  const text = `[${envelope.severity.toUpperCase()}] ${slackEscape(envelope.title)}${link ? ` <${link}|View>` : ''}`;
  return { text: clip(text, 3000), blocks };
}

const TEAMS_COLOR: Record<SecurityEnvelope['severity'], string> = {
  critical: 'Attention',
  high: 'Attention',
  medium: 'Warning',
  low: 'Accent',
  info: 'Default',
};

/**
 * Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"): a message whose
 * attachment is an Adaptive Card (1.4). The older Office 365 connectors and their MessageCards are retired,
 * so Adaptive Cards are the one format that keeps working.
 */
function teams(envelope: SecurityEnvelope, context: RenderContext) {
  const link = eventLink(envelope, context.publicUrl);
  const facts = [
    { title: 'Severity', value: envelope.severity },
    { title: 'Event', value: envelope.event_type },
    { title: 'Time', value: new Date(envelope.timestamp * 1000).toISOString() },
  ];
  if (envelope.project_id) facts.push({ title: 'Project', value: envelope.project_id });
  if (envelope.owasp_category) facts.push({ title: 'OWASP', value: envelope.owasp_category });
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: envelope.title, weight: 'Bolder', size: 'Medium', wrap: true, color: TEAMS_COLOR[envelope.severity] },
      { type: 'TextBlock', text: envelope.description, wrap: true },
      { type: 'FactSet', facts },
    ],
  };
  if (link) content.actions = [{ type: 'Action.OpenUrl', title: 'View in Towline', url: link }];
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}
