import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { signedHeaders } from './scenario';

export interface LoadResult {
  /** Answers received, by status code. */
  statusCodes: Record<string, number>;
  /** 202 answers whose body said accepted (processed) and queued. */
  accepted: number;
  queued: number;
  /** Everything that was not a 202: other statuses, connection errors, timeouts. */
  failures: number;
  seconds: number;
  /** 202 answers per second. */
  perSecond: number;
  /** Latency of the answers in ms (autocannon's resolution is 1 ms). */
  p50: number;
  p99: number;
  /** Date.now() just before the first request and just after the last answer. */
  startedAt: number;
  endedAt: number;
}

/**
 * Drives POST /api/webhooks/:source with autocannon: `connections` keep-alive connections for `seconds`,
 * every request a distinct alert (a new incident) signed afresh as the source's tool would sign it. The run
 * is bounded by its duration and stops by itself.
 */
export async function postAlerts(url: string, source: string, seconds: number, connections: number): Promise<LoadResult> {
  // A run-unique prefix: alerts of two runs against one store never deduplicate into each other.
  const run = randomUUID().slice(0, 8);
  let n = 0;
  let accepted = 0;
  let queued = 0;
  const startedAt = Date.now();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    // A request still unanswered after 30 s counts as a failure instead of holding the run.
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: `/api/webhooks/${source}`,
        setupRequest: (request) => {
          const i = n++;
          const body = JSON.stringify({
            event_type: 'security_alert',
            timestamp: new Date().toISOString(),
            source,
            data: {
              alert_id: `bench-${run}-${i}`,
              severity: ['critical', 'high', 'medium', 'low'][i % 4],
              title: `Suspicious login to host-${i % 50}`,
              details: { host: `host-${i % 50}`, user: `user-${i % 200}@example.com` },
            },
          });
          return { ...request, body, headers: signedHeaders(body) };
        },
        onResponse: (status, body) => {
          if (status !== 202) return;
          if (body.includes('"queued"')) queued++;
          else if (body.includes('"accepted"')) accepted++;
        },
      },
    ],
  });
  const endedAt = Date.now();
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const ok = statusCodes['202'] ?? 0;
  const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    statusCodes,
    accepted,
    queued,
    // errors include timeouts
    failures: answered - ok + result.errors,
    seconds: result.duration,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    startedAt,
    endedAt,
  };
}
