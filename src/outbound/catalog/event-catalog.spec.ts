import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, EVENT_TYPE_NAMES, validateEventData } from './event-catalog';

describe('the event catalog', () => {
  it("has exactly the seed's 14 types", () => {
    expect(EVENT_TYPE_NAMES).toEqual([
      'finding.created', 'finding.regressed', 'finding.assigned', 'finding.acknowledged', 'finding.resolution_verified',
      'finding.resolution_failed', 'posture.grade_changed', 'drift.detected', 'campaign.completed', 'ascam.activity_started',
      'ascam.paused', 'ascam.resumed', 'quality.degraded', 'quality.regression',
    ]);
  });

  it.each(EVENT_TYPES.map((d) => [d.type, d] as const))('%s: its example is valid and {} is refused when something is required', (type, definition) => {
    expect(validateEventData(type, definition.example)).toEqual([]);
    expect(validateEventData(type, 'not an object')).toEqual([{ path: '', message: 'must be object' }]);
    if ((definition.schema.required ?? []).length > 0) expect(validateEventData(type, {})).not.toEqual([]);
    expect(definition.title(definition.example, 'high').length).toBeGreaterThan(0);
  });

  it('fixes or derives severity where the seed says so', () => {
    const of = (type: string) => EVENT_TYPES.find((d) => d.type === type)!.severity;
    expect(of('finding.regressed')).toEqual({ rule: 'fixed', value: 'high' });
    expect(of('ascam.paused')).toEqual({ rule: 'fixed', value: 'medium' });
    const posture = of('posture.grade_changed');
    expect(posture.rule === 'derived' && [posture.derive({ degraded: true }), posture.derive({ degraded: false })]).toEqual(['high', 'info']);
  });
});
