import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config';
import { IncidentAcknowledged, IncidentOpened, SlaBreached } from '../events/incident.events';
import { Incident } from '../incident.aggregate';
import { decideSlaBreach } from './sla-timer';
import { DEFAULT_SLA_TARGETS, dueMs, parseSlaTargets } from './sla-targets';

describe('SLA targets', () => {
  it('override the defaults per severity, in s, m, h or d', () => {
    const targets = parseSlaTargets('critical=5m/2h, high=1s/2s');
    expect(targets.critical).toEqual({ acknowledge: 300, resolve: 7200 });
    expect(targets.high).toEqual({ acknowledge: 1, resolve: 2 });
    expect(targets.medium).toEqual(DEFAULT_SLA_TARGETS.medium);
    expect(parseSlaTargets(undefined)).toEqual(DEFAULT_SLA_TARGETS);
  });

  it('are checked when the environment is loaded, naming the variable', () => {
    expect(loadConfig({ TW_SLA_TARGETS: 'high=1h/1d' }).slaTargets).toBe('high=1h/1d');
    for (const bad of ['urgent=1h/1d', 'high=0s/1d', 'high=1h', 'high=1w/2w']) {
      expect(() => loadConfig({ TW_SLA_TARGETS: bad }), bad).toThrow(/TW_SLA_TARGETS/);
    }
  });
});

describe('an SLA breach', () => {
  const targets = parseSlaTargets('high=1m/1h');
  const openedAt = '2026-03-01T10:00:00.000Z';
  const opened = Incident.evolve(
    Incident.initial(),
    new IncidentOpened('i-1', 'o-1', 'INC-2026-0001', 'edr', 'a-1', 'Malware', 'high', null, null, { autoTriage: false, playbook: null }, openedAt),
  );
  const due = dueMs(openedAt, 'high', 'acknowledge', targets);

  it('is recorded once the clock ran out, and once only', () => {
    expect(decideSlaBreach(opened, 'i-1', 'acknowledge', targets, due - 1)).toEqual([]);
    const [breach] = decideSlaBreach(opened, 'i-1', 'acknowledge', targets, due + 5);
    expect(breach).toMatchObject({ event: { kind: 'acknowledge', severity: 'high', dueAt: '2026-03-01T10:01:00.000Z' } });
    const breached = Incident.evolve(opened, new SlaBreached('i-1', 'acknowledge', 'high', '2026-03-01T10:01:00.000Z', '2026-03-01T10:01:05.000Z'));
    expect(decideSlaBreach(breached, 'i-1', 'acknowledge', targets, due + 10)).toEqual([]);
    // The same id whoever records it: two instances racing store one breach.
    expect(decideSlaBreach(opened, 'i-1', 'acknowledge', targets, due + 99)[0]).toMatchObject({ id: (breach as { id: string }).id });
  });

  it('is not recorded for a clock stopped in time, and is for one stopped late (say, while Towline was down)', () => {
    const inTime = Incident.evolve(opened, new IncidentAcknowledged('i-1', '2026-03-01T10:00:30.000Z', null));
    expect(decideSlaBreach(inTime, 'i-1', 'acknowledge', targets, due + 60_000)).toEqual([]);
    const late = Incident.evolve(opened, new IncidentAcknowledged('i-1', '2026-03-01T10:05:00.000Z', null));
    expect(decideSlaBreach(late, 'i-1', 'acknowledge', targets, due + 600_000)).toEqual([
      expect.objectContaining({ event: expect.objectContaining({ breachedAt: '2026-03-01T10:01:00.000Z' }) }),
    ]);
  });
});
