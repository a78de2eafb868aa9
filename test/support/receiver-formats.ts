/**
 * What the real services require of a request body, as they document it; the tests' receivers answer 400
 * with these problems, as the services would.
 */

/** Splunk HEC /services/collector/event: `event` is required; `time`, when present, is epoch seconds as a number. */
export function splunkHecProblems(body: any): string[] {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['body must be a JSON object'];
  if (!('event' in body) || body.event === null || body.event === '') problems.push('Event field is required');
  if ('time' in body && (typeof body.time !== 'number' || !Number.isFinite(body.time))) problems.push('time must be a number (epoch seconds)');
  for (const key of ['host', 'source', 'sourcetype', 'index']) if (key in body && typeof body[key] !== 'string') problems.push(`${key} must be a string`);
  return problems;
}

/** Slack incoming webhooks: `text` or `blocks` is required; blocks are Block Kit objects within their limits. */
export function slackProblems(body: any): string[] {
  if (typeof body !== 'object' || body === null) return ['invalid_payload'];
  if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return ['no_text'];
  const problems: string[] = [];
  if (Array.isArray(body.blocks)) {
    if (body.blocks.length > 50) problems.push('too many blocks');
    for (const block of body.blocks) {
      if (!['header', 'section', 'actions', 'context', 'divider'].includes(block?.type)) problems.push(`invalid block type ${block?.type}`);
      if (block.type === 'header' && (block.text?.type !== 'plain_text' || block.text.text.length > 150)) problems.push('invalid header');
      if (block.type === 'section' && !block.text && !Array.isArray(block.fields)) problems.push('section needs text or fields');
      if (block.type === 'section' && block.text?.text?.length > 3000) problems.push('section text too long');
      if (Array.isArray(block.fields) && block.fields.length > 10) problems.push('too many fields');
      if (block.type === 'actions') {
        for (const element of block.elements ?? []) {
          if (element.type === 'button' && (element.text?.type !== 'plain_text' || (element.url && !/^https?:\/\//.test(element.url)))) problems.push('invalid button');
        }
      }
    }
  }
  return problems;
}

/**
 * Teams Workflows ("When a Teams webhook request is received" → post card): a message whose attachments are
 * Adaptive Cards: contentType application/vnd.microsoft.card.adaptive, content.type AdaptiveCard, a version,
 * and a body of elements that each have a type.
 */
export function teamsProblems(body: any): string[] {
  if (body?.type !== 'message') return ['type must be "message"'];
  if (!Array.isArray(body.attachments) || body.attachments.length === 0) return ['attachments are required'];
  const problems: string[] = [];
  for (const attachment of body.attachments) {
    if (attachment.contentType !== 'application/vnd.microsoft.card.adaptive') problems.push('contentType must be application/vnd.microsoft.card.adaptive');
    const card = attachment.content;
    if (card?.type !== 'AdaptiveCard') problems.push('content.type must be AdaptiveCard');
    if (typeof card?.version !== 'string' || !/^1\.\d$/.test(card.version)) problems.push('content.version must be 1.x');
    if (!Array.isArray(card?.body) || card.body.some((element: any) => typeof element?.type !== 'string')) problems.push('content.body must be typed elements');
    for (const action of card?.actions ?? []) if (action.type === 'Action.OpenUrl' && !/^https?:\/\//.test(action.url)) problems.push('Action.OpenUrl needs a url');
  }
  return problems;
}
