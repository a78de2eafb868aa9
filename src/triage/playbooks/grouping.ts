import type { JsonObject } from '../../event-store/event-store.port';
import { ACTIVE_STATUSES } from '../../incidents/incident-state-machine';
import type { TriageGroup } from '../events/triage.events';
import type { Sighting, Sightings } from './playbook';

export interface GroupFinding {
  /** The earlier, still active incident this one joins, or null. */
  group: TriageGroup | null;
  /** Every earlier incident sharing one of the keys within the window, oldest first. */
  related: Sighting[];
}

/**
 * Finds the group an incident belongs to: the oldest earlier incident sharing one of `keys` within the
 * window, followed to the incident it was itself folded into, provided that one is still active (a closed or
 * resolved incident does not take new members: this one then starts a group of its own).
 */
export async function findGroup(sightings: Sightings, keys: readonly string[], windowMs: number, kind: TriageGroup['kind']): Promise<GroupFinding> {
  const byIncident = new Map<string, Sighting>();
  for (const key of keys) {
    for (const sighting of await sightings.earlier(key, windowMs)) if (!byIncident.has(sighting.incidentId)) byIncident.set(sighting.incidentId, sighting);
  }
  const related = [...byIncident.values()].sort((a, b) => a.seenAt.localeCompare(b.seenAt) || a.number.localeCompare(b.number));
  for (const sighting of related) {
    let candidate = await sightings.incident(sighting.incidentId);
    if (candidate?.duplicateOf) candidate = await sightings.incident(candidate.duplicateOf);
    if (candidate && ACTIVE_STATUSES.includes(candidate.status)) {
      return { group: { incidentId: candidate.incidentId, number: candidate.number, kind, key: sighting.key }, related };
    }
  }
  return { group: null, related };
}

/** Evidence for a finding (the first 20 related incidents). */
export function groupEvidence(finding: GroupFinding): JsonObject {
  return {
    related: finding.related.slice(0, 20).map((s) => ({ incident_id: s.incidentId, number: s.number, key: s.key, seen_at: s.seenAt })),
    related_count: finding.related.length,
    group_into: finding.group ? { ...finding.group } : null,
  };
}

export function groupOf(evidence: JsonObject | undefined): TriageGroup | null {
  const group = evidence?.group_into;
  return group && typeof group === 'object' && !Array.isArray(group) ? (group as unknown as TriageGroup) : null;
}
