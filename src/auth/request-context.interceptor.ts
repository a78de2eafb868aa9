import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, mergeMap, Observable, tap } from 'rxjs';
import { CONSISTENCY_HEADER, ReadYourWrites } from '../cqrs/read-your-writes';
import { runWithContext, type RequestContext } from '../cqrs/request-context';
import { actorOf, type Principal } from './principal';

/**
 * Runs each request's handler inside its RequestContext, so the events it writes name the actor — and carries
 * the consistency token both ways: a request that presents `Towline-Consistency` waits for this instance's read
 * models to reach it before its handler runs; an answer to a request that wrote carries the token of its writes.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  constructor(private readonly readYourWrites: ReadYourWrites) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { principal?: Principal }>();
    const reply = http.getResponse<FastifyReply>();
    const principal = request.principal;
    const requestContext: RequestContext = {
      requestId: request.id,
      correlationId: request.id,
      causationId: request.id,
      actor: principal ? actorOf(principal) : 'anonymous',
      organisationId: principal?.kind === 'api_key' ? principal.organisationId : undefined,
    };
    const presented = request.headers[CONSISTENCY_HEADER];
    const token = Array.isArray(presented) ? presented.at(-1) : presented;
    // The answer carries the token of this request's writes (set before Nest sends it).
    const handle = () =>
      next.handle().pipe(
        tap(() => {
          const answered = this.readYourWrites.token();
          if (answered && !reply.sent) void reply.header(CONSISTENCY_HEADER, answered);
        }),
      );
    return new Observable((subscriber) =>
      runWithContext(requestContext, () => (token ? from(this.readYourWrites.awaitToken(token)).pipe(mergeMap(handle)) : handle()).subscribe(subscriber)),
    );
  }
}
