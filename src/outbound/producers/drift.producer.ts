import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, type IEvent } from '@nestjs/cqrs';
import type { StatementSync } from 'node:sqlite';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { EventContext } from '../../cqrs/domain-event';
import { StoreConsumer, type StoreConsumerHandler } from '../../cqrs/store-consumer';
import { comparePositions, decodePosition, encodePosition } from '../../event-store/event-store.port';
import { AlertReceived } from '../../inbound/events/alert.events';
import { READ_MODEL_DATABASE, type ReadModelDatabase } from '../../read-model/read-model.database';
import { SEVERITIES } from '../catalog/event-catalog';
import { RecordSecurityEvent } from '../commands/security-event.commands';
import { derivedEventId } from '../ids';
import { emptyBaseline, observe, type Baseline, type DriftSettings, type Observation } from './drift-detector';

export const DRIFT_PRODUCER = 'outbound.drift';

/** Baseline memory: α = 0.1 weighs roughly the last 10–20 buckets. */
const ALPHA = 0.1;
/** σ floors: one alert per bucket for volume, a quarter severity step for the mix. */
const MIN_STDDEV = { alert_volume: 1, severity_score: 0.25 } as const;
/** After a long silence only this many empty buckets join the baseline (it has long forgotten older ones). */
const MAX_GAP_BUCKETS = 1000;

type Metric = keyof typeof MIN_STDDEV;

interface SourceRow {
  project_id: string | null;
  bucket_start: number;
  count: number;
  severity_sum: number;
  volume: string;
  severity: string;
  last_position: string;
}

interface Finding {
  metric: Metric;
  bucketStart: number;
  observed: number;
  observation: Observation;
}

/**
 * drift.detected from inbound alerts: per organisation and source, alerts are counted in time buckets
 * (TW_DRIFT_BUCKET) by the time Towline received them, and each closed bucket feeds two series into the
 * EWMA detector (drift-detector.ts): `alert_volume` (alerts in the bucket; empty buckets count as 0) and
 * `severity_score` (their mean severity, info = 0 … critical = 4; empty buckets have none). A bucket closes
 * when the first alert of a later bucket arrives, so the result depends only on the events — a replay gives
 * the same drift events, under the same ids — and a silent source is noticed when it speaks again (the
 * first empty bucket of the gap is scored). The statistic is in the event's data.
 */
@StoreConsumer({ name: DRIFT_PRODUCER, kind: 'reactor', concurrency: 4, events: [AlertReceived] })
@Injectable()
export class DriftProducer implements StoreConsumerHandler {
  private readonly sql: Record<string, StatementSync>;
  private readonly bucketMs: number;
  private readonly settings: Omit<DriftSettings, 'minStddev'>;

  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(READ_MODEL_DATABASE) readModels: ReadModelDatabase,
  ) {
    this.bucketMs = config.outbound.drift.bucketMs;
    this.settings = { alpha: ALPHA, threshold: config.outbound.drift.threshold, minSamples: config.outbound.drift.minSamples };
    const db = readModels.db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbound_drift (
        organisation_id TEXT NOT NULL, source TEXT NOT NULL, project_id TEXT, bucket_start INTEGER NOT NULL,
        count INTEGER NOT NULL, severity_sum INTEGER NOT NULL, volume TEXT NOT NULL, severity TEXT NOT NULL,
        last_position TEXT NOT NULL, PRIMARY KEY (organisation_id, source)
      );
    `);
    this.sql = {
      get: db.prepare('SELECT * FROM outbound_drift WHERE organisation_id = ? AND source = ?'),
      put: db.prepare(
        'INSERT OR REPLACE INTO outbound_drift (organisation_id, source, project_id, bucket_start, count, severity_sum, volume, severity, last_position) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  /** Each source's baselines are its own state: one source's alerts are counted in order, sources side by side. */
  partitionOf(event: IEvent): string {
    const { organisationId, source } = event as AlertReceived;
    return `${organisationId}/${source}`;
  }

  async handle(event: IEvent, context: EventContext): Promise<void> {
    if (!(event instanceof AlertReceived)) return;
    const row = this.sql.get.get(event.organisationId, event.source) as SourceRow | undefined;
    // At-least-once delivery: an alert already counted is not counted again.
    if (row && comparePositions(decodePosition(row.last_position), context.position) >= 0) return;

    const bucket = Math.floor(Date.parse(event.receivedAt) / this.bucketMs) * this.bucketMs;
    const count = event.alerts.length;
    const severitySum = event.alerts.reduce((sum, alert) => sum + Math.max(0, SEVERITIES.indexOf(alert.severity)), 0);
    let volume = row ? (JSON.parse(row.volume) as Baseline) : emptyBaseline();
    let severity = row ? (JSON.parse(row.severity) as Baseline) : emptyBaseline();
    const findings: Finding[] = [];
    let next = { bucket_start: bucket, count, severity_sum: severitySum };

    if (row && bucket <= row.bucket_start) {
      // Same bucket (or a slightly late alert): it counts in the open bucket.
      next = { bucket_start: row.bucket_start, count: row.count + count, severity_sum: row.severity_sum + severitySum };
    } else if (row) {
      const closed = this.observe('alert_volume', volume, row.bucket_start, row.count);
      volume = closed.baseline;
      findings.push(...closed.findings);
      if (row.count > 0) {
        const mix = this.observe('severity_score', severity, row.bucket_start, row.severity_sum / row.count);
        severity = mix.baseline;
        findings.push(...mix.findings);
      }
      const gap = Math.min((bucket - row.bucket_start) / this.bucketMs - 1, MAX_GAP_BUCKETS);
      for (let i = 0; i < gap; i++) {
        const empty = this.observe('alert_volume', volume, row.bucket_start + (i + 1) * this.bucketMs, 0);
        volume = empty.baseline;
        if (i === 0) findings.push(...empty.findings);
      }
    }

    for (const finding of findings) await this.emit(event, finding);
    this.sql.put.run(
      event.organisationId,
      event.source,
      event.projectId,
      next.bucket_start,
      next.count,
      next.severity_sum,
      JSON.stringify(volume),
      JSON.stringify(severity),
      encodePosition(context.position),
    );
  }

  private observe(metric: Metric, baseline: Baseline, bucketStart: number, value: number): { baseline: Baseline; findings: Finding[] } {
    const observation = observe(baseline, value, { ...this.settings, minStddev: MIN_STDDEV[metric] });
    return { baseline: observation.baseline, findings: observation.drift ? [{ metric, bucketStart, observed: value, observation }] : [] };
  }

  private async emit(event: AlertReceived, { metric, bucketStart, observed, observation }: Finding): Promise<void> {
    const round = (n: number, digits: number) => Number(n.toFixed(digits));
    const bucketIso = new Date(bucketStart).toISOString();
    await this.commands.execute(
      new RecordSecurityEvent(
        {
          event_type: 'drift.detected',
          organisation_id: event.organisationId,
          project_id: event.projectId,
          data: {
            metric,
            source: event.source,
            direction: observation.drift!,
            observed: round(observed, 4),
            baseline_mean: round(observation.mean, 4),
            baseline_stddev: round(observation.stddev, 4),
            z_score: round(observation.z!, 2),
            threshold: this.settings.threshold,
            samples: observation.baseline.samples - 1,
            bucket_start: bucketIso,
            bucket_seconds: Math.max(1, Math.round(this.bucketMs / 1000)),
          },
        },
        'drift',
        derivedEventId('drift.detected', `${event.organisationId}/${event.source}/${metric}/${bucketIso}`),
      ),
    );
  }
}
