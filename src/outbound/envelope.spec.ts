import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';

const now = new Date('2024-02-13T16:00:00Z');

describe('buildEnvelope', () => {
  it("reproduces the seed's example envelope, field order included", () => {
    const envelope = buildEnvelope(
      {
        event_type: 'finding.created',
        organisation_id: 'org',
        project_id: null,
        data: { finding_id: 'f', title: 'Prompt Injection via System Override', severity: 'critical', category: 'prompt_injection', owasp_category: 'LLM01' },
      },
      'id-1',
      now,
    );
    expect(Object.keys(envelope)).toEqual([
      'id', 'event_type', 'organisation_id', 'project_id', 'timestamp', 'severity', 'title', 'description', 'category', 'owasp_category', 'data',
    ]);
    expect(envelope).toMatchObject({
      timestamp: 1707840000,
      severity: 'critical',
      title: 'New critical finding: Prompt Injection via System Override',
      description: 'New critical finding: Prompt Injection via System Override [LLM01]',
      category: 'prompt_injection',
      owasp_category: 'LLM01',
    });
  });

  it('refuses a severity the type fixes, and takes a default one as given', () => {
    const draft = { organisation_id: 'o', project_id: null };
    expect(() => buildEnvelope({ ...draft, event_type: 'ascam.paused', data: {}, severity: 'critical' }, 'i', now)).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_event' }),
    );
    expect(buildEnvelope({ ...draft, event_type: 'ascam.paused', data: {} }, 'i', now).severity).toBe('medium');
    expect(buildEnvelope({ ...draft, event_type: 'ascam.resumed', data: {}, severity: 'low' }, 'i', now).severity).toBe('low');
    expect(buildEnvelope({ ...draft, event_type: 'ascam.resumed', data: {} }, 'i', now)).toMatchObject({ severity: 'info', category: 'monitoring' });
  });
});
