import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, pythonVerify, RECEIVER_ENV, startReceiver, type Receiver } from '../support/receiver';
import { slackProblems, splunkHecProblems, teamsProblems } from '../support/receiver-formats';
import { startTestApp, type TestApp } from '../support/test-app';

/** A template: the link goes where the operator says, never to the API (which a browser opens without a key: 401). */
const PUBLIC_URL = 'https://towline.example.com/ui/{organisation_id}/events/{event_id}?type={event_type}';

/**
 * Each format against a receiver that checks it as the real service documents it, and answers as that
 * service would: 400 with the problems when the body does not fit.
 */
describe('webhook formats', () => {
  let t: TestApp;
  const receivers: Receiver[] = [];

  async function deliverTo(format: string, check: (body: any) => string[], headers?: Record<string, string>, ok = { status: 200, body: 'ok' }) {
    const r = await startReceiver((request) => {
      const problems = check(request.json());
      return problems.length ? { status: 400, body: JSON.stringify({ problems }) } : ok;
    });
    receivers.push(r);
    const hook = (await t.request('POST', '/api/organisations/default/webhooks', { url: r.url, format, headers, event_types: ['finding.created'] })).body;
    return { r, hook };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { ...RECEIVER_ENV, TW_PUBLIC_URL: PUBLIC_URL } });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('renders every format so its receiver accepts it, each signed over its own body', async () => {
    const splunk = await deliverTo('splunk_hec', splunkHecProblems, { Authorization: 'Splunk 8f1e-hec-token' }, { status: 200, body: '{"text":"Success","code":0}' });
    const slack = await deliverTo('slack', slackProblems);
    const teams = await deliverTo('teams', teamsProblems, undefined, { status: 202, body: '' });
    const envelope = await deliverTo('envelope', () => []);
    const published = (
      await t.request('POST', '/api/organisations/default/events', {
        event_type: 'finding.created',
        data: { finding_id: 'f-7', title: 'Prompt <Injection> & more', severity: 'critical', owasp_category: 'LLM01' },
      })
    ).body;

    const [hec] = await splunk.r.waitFor(1);
    expect(hec.headers.authorization).toBe('Splunk 8f1e-hec-token');
    expect(hec.json()).toEqual({ time: published.timestamp, host: expect.any(String), source: 'towline', sourcetype: 'towline:security_event', event: published });
    expect(pythonVerify(hec.body, splunk.hook.secret, hec.headers['x-towline-signature'])).toBe(true);

    const [message] = await slack.r.waitFor(1);
    const body = message.json();
    const link = `https://towline.example.com/ui/${published.organisation_id}/events/${published.id}?type=finding.created`;
    expect(body.text).toBe(`[CRITICAL] New critical finding: Prompt &lt;Injection&gt; &amp; more <${link}|View>`);
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: published.title, emoji: true } });
    expect(JSON.stringify(body.blocks[1])).toContain('Critical');
    expect(body.blocks.at(-1).elements[0].url).toBe(link);
    expect(pythonVerify(message.body, slack.hook.secret, message.headers['x-towline-signature'])).toBe(true);

    const [card] = await teams.r.waitFor(1);
    const content = card.json().attachments[0].content;
    expect(content.body[0]).toMatchObject({ type: 'TextBlock', text: published.title, color: 'Attention' });
    expect(content.body[2].facts).toEqual(expect.arrayContaining([{ title: 'Severity', value: 'critical' }]));
    expect(content.actions[0].url).toBe(link);

    const [plain] = await envelope.r.waitFor(1);
    expect(plain.json()).toEqual(published);

    // Every receiver accepted its body (a 400 would have made the delivery fail).
    for (const { hook } of [splunk, slack, teams, envelope]) {
      await eventually(async () => {
        const [delivery] = (await t.request('GET', `/api/organisations/default/webhooks/${hook.id}/deliveries`)).body.items;
        return delivery?.status === 'succeeded';
      }, 5_000, `the ${hook.format} delivery to succeed`);
    }
  });

  it('is caught by the checks when a body does not fit the service', () => {
    expect(splunkHecProblems({ time: '1707840000', event: {} })).toEqual(['time must be a number (epoch seconds)']);
    expect(splunkHecProblems({ time: 1 })).toEqual(['Event field is required']);
    expect(slackProblems({ attachments: [] })).toEqual(['no_text']);
    expect(teamsProblems({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.thumbnail', content: {} }] })).toHaveLength(4);
  });
});
