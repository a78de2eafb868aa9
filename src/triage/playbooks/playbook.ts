import type { JsonObject, JsonValue } from '../../event-store/event-store.port';
import type { NormalizedAlert, Severity } from '../../contracts/alert';
import type { IncidentStatus } from '../../incidents/events/incident.events';
import type { TriageGroup, Verdict } from '../events/triage.events';
import type { PlaybookSettings } from '../playbook-settings';

/**
 * The one interface every playbook implements. A playbook is a code module: a name, ordered keyed steps, and
 * a pure conclusion. The runner (triage-runner.ts) does everything else — recording each step as an event,
 * resuming after a crash at the first step without one, retrying failures, applying the conclusion — so a
 * playbook only says what to look at and what it means.
 *
 * Steps should be pure functions of their input where they can; the ones that must look outside (earlier
 * incidents sharing a sender or a host) do it through the context, whose answers are themselves derived
 * from recorded events. A step's `evidence` is stored verbatim on the incident stream: keep it small, and
 * JSON. A step that records `correlation_keys` (strings like `sender:a@b.example`) makes this incident
 * findable by later steps through `context.sightings`.
 */
export interface Playbook {
  readonly name: string;
  readonly description: string;
  readonly steps: readonly Step[];
  /** Whether a further trigger alert on the incident runs the playbook again (e.g. counts that matter). */
  readonly reevaluateOnAlert: boolean;
  /** The verdict, from the incident and what its steps found. Pure. */
  conclude(input: TriageInput, results: StepResults): Conclusion;
}

export interface Step {
  /** Stable: it names the step's event ids, so renaming one re-runs it on unfinished runs. */
  readonly key: string;
  run(input: TriageInput, context: StepContext): StepResult | Promise<StepResult>;
}

export interface StepResult {
  /** One word or short phrase for humans and filters (`lookalike_found`, `clean`, `3_detections`). */
  outcome: string;
  evidence: JsonObject;
}

export type StepResults = ReadonlyMap<string, StepResult>;

export interface Conclusion {
  verdict: Verdict;
  score: number;
  reasons: string[];
  /** Before the source's severity_mapping, which the runner applies. */
  severity: Severity;
  escalated: boolean;
  /** An earlier, still active incident this one belongs to (a campaign, a duplicate): it is folded into it. */
  groupInto: TriageGroup | null;
}

/** One trigger alert of the incident, with the raw payload item it was normalized from. */
export interface TriageAlert {
  id: string;
  receivedAt: string;
  alert: NormalizedAlert;
  /** The vendor's item as received (e.g. Defender's `data.sender/subject/recipients`), null when unreadable. */
  raw: JsonValue | null;
}

/** Everything a playbook sees, built from the incident's stream (and its alerts' receipts) when a step runs. */
export interface TriageInput {
  incident: {
    id: string;
    number: string;
    organisationId: string;
    projectId: string | null;
    source: string;
    playbook: string;
    title: string;
    category: string | null;
    /** The incident's severity now (triage may have set it). */
    severity: Severity;
    /** The highest severity its vendors gave: what scores start from, so a re-run does not feed on its own result. */
    vendorSeverity: Severity;
    status: IncidentStatus;
    openedAt: string;
    alertCount: number;
  };
  /** Trigger alerts, oldest first (the latest 50 at most). */
  alerts: TriageAlert[];
  /** Incidents triage folded into this one so far, and the group's size (1 when none). */
  group: { count: number; members: { incidentId: string; number: string; verdict: string; score: number }[] };
  settings: PlaybookSettings;
}

/** An earlier incident that recorded the same correlation key. */
export interface Sighting {
  incidentId: string;
  number: string;
  key: string;
  seenAt: string;
}

export interface IncidentSummary {
  incidentId: string;
  number: string;
  status: IncidentStatus;
  duplicateOf: string | null;
}

export interface Sightings {
  /**
   * Incidents of the organisation that recorded `key` before this incident did, opened within `windowMs` of
   * it, oldest first. Ordered by where the keys were recorded in the store, so two incidents triaged at once
   * agree on which came first.
   */
  earlier(key: string, windowMs: number): Promise<Sighting[]>;
  /** Another incident of the organisation, as its stream has it now. */
  incident(incidentId: string): Promise<IncidentSummary | null>;
}

export interface StepContext {
  /** The steps of this run completed so far. */
  results: StepResults;
  sightings: Sightings;
  /** Aborted when the server shuts down or the step times out. */
  signal: AbortSignal;
}
