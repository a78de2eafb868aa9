/**
 * The display form of a webhook URL: what the API shows and what events keep in clear. For some services
 * the URL itself is the credential (Slack, Teams / Power Automate workflows, Discord, anything signed or
 * keyed in its query string), so the URL is kept only sealed (webhook-secrets.ts) and this form keeps what
 * tells a person where events go: scheme, host and port, the path, and the query's names. Every query value
 * becomes `[redacted]` (a part without `=` is redacted whole: it may be a bare token), and so do the path
 * segments that carry the secret for the providers known to put one there (Slack, Discord, Teams connectors).
 * Other paths are shown in full: a secret belongs in a header or the query.
 */
export const REDACTED = '[redacted]';

/**
 * A provider known to put a secret in the path: how many leading non-empty segments identify the webhook
 * (the rest are secret), or undefined when the URL is not one of its. A URL is recognised by the provider's
 * host, or by the shape of its path on any host (a relay, a proxy, a compatible service): a path wrongly
 * taken for one only hides more.
 */
type SecretPathRule = (host: string, segments: readonly string[]) => number | undefined;

const isDomain = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

const RULES: readonly SecretPathRule[] = [
  // Slack: /services/T…/B…/<secret>, /workflows/T…/A…/<id>/<secret>, /triggers/T…/<id>/<secret>.
  (host, [kind = '', team = '']) =>
    (/^(services|workflows|triggers)$/i.test(kind) && /^T[A-Z0-9]+$/.test(team)) || isDomain(host, 'hooks.slack.com') || isDomain(host, 'hooks.slack-gov.com')
      ? 3
      : undefined,
  // Discord: /api[/v10]/webhooks/<id>/<token>[/slack|/github].
  (host, segments) => {
    const at = segments.findIndex(
      (s, i) => s.toLowerCase() === 'webhooks' && /^(api|v\d+)$/i.test(segments[i - 1] ?? '') && /^\d+$/.test(segments[i + 1] ?? ''),
    );
    if (at !== -1) return at + 2;
    return isDomain(host, 'discord.com') || isDomain(host, 'discordapp.com') ? segments.length : undefined;
  },
  // Teams (Office 365 connectors): /webhookb2/<group>@<tenant>/IncomingWebhook/<id>/<owner>[/<signature>], and
  // the older outlook.office.com/webhook/…. Teams and Power Automate Workflows URLs (*.logic.azure.com,
  // *.api.powerplatform.com) carry their secret in the query (sig=), which is always redacted.
  (host, segments) =>
    /^webhookb2$/i.test(segments[0] ?? '') ||
    segments.some((s) => s.toLowerCase() === 'incomingwebhook') ||
    isDomain(host, 'webhook.office.com') ||
    host === 'outlook.office.com' ||
    host === 'outlook.office365.com'
      ? 1
      : undefined,
];

function redactPath(pathname: string, keep: number): string {
  let seen = 0;
  return pathname
    .split('/')
    .map((part) => (part === '' ? part : seen++ < keep ? part : REDACTED))
    .join('/');
}

function redactQuery(search: string): string {
  if (search.length <= 1) return '';
  const parts = search
    .slice(1)
    .split('&')
    .map((part) => {
      if (part === '') return part;
      const equals = part.indexOf('=');
      return equals === -1 ? REDACTED : `${part.slice(0, equals)}=${REDACTED}`;
    });
  return `?${parts.join('&')}`;
}

/**
 * `https://hooks.slack.com/services/T000/B000/XXXX?token=abc` → `https://hooks.slack.com/services/T000/B000/[redacted]?token=[redacted]`.
 * Credentials and fragments (refused at registration anyway) are never part of it; a string that is not a
 * URL shows as `[redacted]`.
 */
export function webhookUrlDisplay(raw: string): string {
  if (!URL.canParse(raw)) return REDACTED;
  const url = new URL(raw);
  const host = url.hostname.replace(/\.$/, '');
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const keep = RULES.map((rule) => rule(host, segments)).find((k) => k !== undefined);
  // Never the whole path of a provider's URL: whatever its shape, at least the last segment is secret.
  const path = keep === undefined ? url.pathname : redactPath(url.pathname, Math.max(0, Math.min(keep, segments.length - 1)));
  return `${url.protocol}//${url.host}${path}${redactQuery(url.search)}`;
}
