import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, type ICommand } from '@nestjs/cqrs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { comparePositions, decodePosition, encodePosition, type Position } from '../event-store/event-store.port';
import { AppError, invalidRequest } from '../http/app-error';
import { ReadSideRunner } from './read-side.runner';
import { currentContext } from './request-context';

/**
 * Read-your-writes across instances: every answer to a request that wrote carries the position its writes
 * reached in this header; a request that sends it back, to any instance, is answered only once that
 * instance's read models have reached it (up to TW_CONSISTENCY_WAIT, then 503 with Retry-After).
 */
export const CONSISTENCY_HEADER = 'towline-consistency';

/** What a piece of work appended: its last position, and every event type it wrote. */
export interface Written {
  position: Position;
  types: ReadonlySet<string>;
}

/** The writes of the work running in this async context, gathered as the aggregate store appends them. */
class WriteScope {
  position?: Position;
  readonly types = new Set<string>();

  add(position: Position, types: Iterable<string>): void {
    if (!this.position || comparePositions(position, this.position) > 0) this.position = position;
    for (const type of types) this.types.add(type);
  }

  written(): Written | null {
    return this.position ? { position: this.position, types: this.types } : null;
  }
}

const scopes = new AsyncLocalStorage<WriteScope>();

/** Called by the aggregate store after every append (the only place events are written). */
export function noteWrite(position: Position, types: Iterable<string>): void {
  scopes.getStore()?.add(position, types);
}

/**
 * Read-your-writes, in one place: an API answer must reflect the request's own write, and a GET right after it
 * must see it. Work runs in a write scope that gathers what it appended; before answering, this waits until
 * every read model fed by one of those event types has reached the last position (the read-side engine knows
 * which consumers read which types). Controllers and services never name the read models they wait for.
 */
@Injectable()
export class ReadYourWrites {
  constructor(
    private readonly bus: CommandBus,
    private readonly readSide: ReadSideRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs a command; resolves with its result once the read models reflect what it wrote. */
  async execute<R = unknown>(command: ICommand): Promise<R> {
    const { result, written } = await this.collect(() => this.bus.execute<ICommand, R>(command));
    await this.reflect(written);
    return result;
  }

  /** Runs `work` in its own write scope (its writes still count for an enclosing one) and says what it wrote. */
  async collect<R>(work: () => Promise<R>): Promise<{ result: R; written: Written | null }> {
    const outer = scopes.getStore();
    const scope = new WriteScope();
    try {
      const result = await scopes.run(scope, work);
      return { result, written: scope.written() };
    } finally {
      if (outer && scope.position) outer.add(scope.position, scope.types);
    }
  }

  /**
   * Waits until the read models fed by the written types have seen `written.position` (bounded: see catchUp),
   * and notes the position as the request's consistency token.
   */
  async reflect(written: Written | null): Promise<void> {
    if (!written) return;
    await this.readSide.catchUpReaders(written.types, written.position);
    const context = currentContext();
    if (context && (!context.written || comparePositions(written.position, context.written) > 0)) context.written = written.position;
  }

  /** The token to answer with: the position this request's writes reached, if it wrote. */
  token(): string | undefined {
    const written = currentContext()?.written;
    return written ? encodePosition(written) : undefined;
  }

  /**
   * A request that presents a token (from a write answered by this or another instance) waits until every read
   * model of this instance has reached it: the token says where, not what, so all of them.
   */
  async awaitToken(token: string): Promise<void> {
    let position: Position;
    try {
      position = decodePosition(token.trim());
    } catch {
      throw invalidRequest(`${CONSISTENCY_HEADER} is not a token Towline answered with`, [{ field: CONSISTENCY_HEADER, problems: ['is invalid'] }]);
    }
    const names = [...this.readSide.projectionPositions().keys()];
    const waitMs = this.config.readSide.consistencyWaitMs;
    await this.readSide.catchUp(names, position, waitMs);
    const behind = [...this.readSide.projectionPositions().values()].some((reached) => comparePositions(reached, position) < 0);
    if (behind) {
      throw new AppError(
        503,
        'consistency_timeout',
        `This instance's read models have not reached ${token} yet (waited ${waitMs / 1000} s); retry shortly`,
        undefined,
        { 'retry-after': '1' },
      );
    }
  }
}
