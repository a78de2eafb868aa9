import { describe, expect, it } from 'vitest';
import { buildEnvelope } from '../envelope';
import { eventLink, renderPayload } from './formats';

const envelope = buildEnvelope(
  {
    event_type: 'finding.created',
    organisation_id: 'org 1',
    project_id: null,
    data: { finding_id: 'f', title: 'Prompt Injection', severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
  },
  'id-1',
  new Date('2024-02-13T16:00:00Z'),
);

describe('the "View in Towline" link', () => {
  it('fills the TW_PUBLIC_URL template, URL-encoding each value', () => {
    expect(eventLink(envelope, 'https://towline.example.com/ui/{organisation_id}/events/{event_id}?project={project_id}')).toBe(
      'https://towline.example.com/ui/org%201/events/id-1?project=',
    );
    expect(eventLink(envelope, 'https://towline.example.com/')).toBe('https://towline.example.com/');
  });

  it('is left out of Slack and Teams messages when TW_PUBLIC_URL is unset', () => {
    const slack = JSON.stringify(renderPayload('slack', envelope, { publicUrl: null }));
    const teams = JSON.stringify(renderPayload('teams', envelope, { publicUrl: null }));
    expect(slack).not.toContain('View in Towline');
    expect(slack).not.toContain('http');
    expect(teams).not.toContain('Action.OpenUrl');
  });
});
