import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal';
import { notFound } from '../http/app-error';

export interface JobProgress {
  /** Events read so far. */
  events: number;
  /** The log position reached and the head the job runs up to (`commit/prepare`), when known. */
  position: string | null;
  head: string | null;
}

export interface JobView<R> {
  id: string;
  kind: 'verify' | 'replay';
  state: 'running' | 'done' | 'failed';
  started_at: string;
  finished_at: string | null;
  progress: JobProgress;
  result: R | null;
  error: string | null;
}

interface Job extends JobView<unknown> {
  /** null: the instance admin's; else the organisation whose key started it. */
  owner: string | null;
}

const KEPT = 100;

/**
 * Long audit runs (verify all, replay) as jobs: started, answered 202 with an id, polled for progress and
 * result. Kept in this process's memory (the last 100): a job is a question asked of the log, not a record —
 * after a restart, ask again.
 */
@Injectable()
export class AuditJobs {
  private readonly logger = new Logger('AuditJobs');
  private readonly jobs = new Map<string, Job>();

  start<R>(kind: Job['kind'], principal: Principal, work: (progress: JobProgress) => Promise<R>): JobView<R> {
    const job: Job = {
      id: randomUUID(),
      kind,
      owner: principal.kind === 'admin' ? null : principal.organisationId,
      state: 'running',
      started_at: new Date().toISOString(),
      finished_at: null,
      progress: { events: 0, position: null, head: null },
      result: null,
      error: null,
    };
    this.jobs.set(job.id, job);
    while (this.jobs.size > KEPT) this.jobs.delete(this.jobs.keys().next().value!);
    // Started on the next turn, so the 202 is answered before the first page is read.
    setImmediate(() => {
      work(job.progress).then(
        (result) => Object.assign(job, { state: 'done', result, finished_at: new Date().toISOString() }),
        (error: unknown) => {
          this.logger.error(`Audit ${kind} job ${job.id} failed: ${(error as Error).message}`);
          Object.assign(job, { state: 'failed', error: (error as Error).message, finished_at: new Date().toISOString() });
        },
      );
    });
    return this.view(job) as JobView<R>;
  }

  /** A job the principal may see (its organisation's, or any for the instance admin), or 404. */
  get(principal: Principal, id: string, kind: Job['kind']): JobView<unknown> {
    const job = this.jobs.get(id);
    if (!job || job.kind !== kind || (principal.kind === 'api_key' && job.owner !== principal.organisationId)) {
      throw notFound(`No ${kind} job '${id}'`);
    }
    return this.view(job);
  }

  private view({ owner: _owner, ...job }: Job): JobView<unknown> {
    return { ...job, progress: { ...job.progress } };
  }
}
