import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { actorOf, type Principal } from '../../auth/principal';
import { nameBasedUuid } from '../../contracts/ids';
import { AggregateStore } from '../../cqrs/aggregate-store';
import { WrongExpectedVersion } from '../../event-store/event-store.errors';
import type { ExpectedRevision } from '../../event-store/event-store.port';
import { AppError } from '../../http/app-error';
import {
  IdempotentRequestAbandoned,
  IdempotentRequestCompleted,
  IdempotentRequestStarted,
  idempotencyStream,
} from '../events/idempotency.events';

export const IDEMPOTENCY_NAMESPACE = '3b1c7f2e-9a4d-5e8b-a6c1-0d2f4e6a8b9c';
/** How long a key holds its first answer (the IETF draft leaves it to the server; Stripe keeps 24 h). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** A request started this long ago and never finished died with its instance: the key may be taken over. */
const IN_PROGRESS_LEASE_MS = 60_000;
const KEY = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The stream id of this request's Idempotency-Key (stable across retries): a handler may derive ids from it. */
    idempotencyId?: string;
  }
}

interface KeyState {
  started: IdempotentRequestStarted | null;
  completed: IdempotentRequestCompleted | null;
  revision: ExpectedRevision;
}

/** Fields never kept in a stored answer: a secret is shown once, in the first answer only. */
const withoutSecrets = (body: unknown): unknown => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body ?? null;
  const { secret: _secret, ...rest } = body as Record<string, unknown>;
  return rest;
};

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on creating POSTs: the same key and the same
 * body within 24 hours get the first answer again (`Idempotent-Replayed: true`), whichever instance answers;
 * the same key with another body is 422 `idempotency_key_reused`; a repeat while the first is still running
 * is 409 `idempotency_key_in_progress`. Keys are per caller (API key or admin) and route. 2xx and 4xx answers
 * are kept; a 5xx frees the key for a retry.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly aggregates: AggregateStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = request.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    return from(this.around(request, reply, key, next));
  }

  private async around(request: FastifyRequest & { principal?: Principal }, reply: FastifyReply, key: string | string[], next: CallHandler): Promise<unknown> {
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new AppError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const path = request.url.split('?')[0];
    const actor = request.principal ? actorOf(request.principal) : 'anonymous';
    const id = nameBasedUuid(IDEMPOTENCY_NAMESPACE, `${actor} ${request.method} ${path} ${key}`);
    const stream = idempotencyStream(id);
    const bodyDigest = `sha256:${hash('sha256', request.rawBody ?? Buffer.alloc(0), 'hex')}`;

    const state = await this.load(stream);
    const now = Date.now();
    if (state.started && now - Date.parse(state.started.startedAt) < IDEMPOTENCY_WINDOW_MS) {
      if (state.started.bodyDigest !== bodyDigest) {
        throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with another request body');
      }
      if (state.completed) return this.replay(reply, state.completed);
      if (now - Date.parse(state.started.startedAt) < IN_PROGRESS_LEASE_MS) {
        throw new AppError(409, 'idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed');
      }
    }
    try {
      await this.aggregates.record(stream, [new IdempotentRequestStarted(request.method, path, bodyDigest, new Date(now).toISOString())], {
        expectedRevision: state.revision,
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      // Another instance (or request) started with this key in between.
      throw new AppError(409, 'idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed');
    }

    request.idempotencyId = id;
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: null });
    } catch (error) {
      const status = error instanceof AppError ? error.status : 500;
      const finish =
        status < 500
          ? new IdempotentRequestCompleted(status, { error: { code: (error as AppError).code, message: (error as AppError).message } }, new Date().toISOString())
          : new IdempotentRequestAbandoned(new Date().toISOString());
      await this.aggregates.record(stream, [finish]).catch(() => undefined);
      throw error;
    }
    await this.aggregates.record(stream, [new IdempotentRequestCompleted(reply.statusCode, withoutSecrets(body), new Date().toISOString())]);
    return body;
  }

  private replay(reply: FastifyReply, completed: IdempotentRequestCompleted): unknown {
    void reply.header('idempotent-replayed', 'true');
    if (completed.status >= 400) {
      const { code, message } = (completed.body as { error: { code: string; message: string } }).error;
      throw new AppError(completed.status, code, message);
    }
    return completed.body;
  }

  private async load(stream: string): Promise<KeyState> {
    const { state, revision } = await this.aggregates.load<Omit<KeyState, 'revision'>>(stream, {
      initial: () => ({ started: null, completed: null }),
      evolve: (current, event) => {
        if (event instanceof IdempotentRequestStarted) return { started: event, completed: null };
        if (event instanceof IdempotentRequestCompleted) return { ...current, completed: event };
        if (event instanceof IdempotentRequestAbandoned) return { started: null, completed: null };
        return current;
      },
    });
    return { ...state, revision };
  }
}
