import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { actorOf, type Principal } from '../auth/principal';
import { runWithContext } from '../cqrs/request-context';

/** Runs each request's handler inside its RequestContext, so the events it writes name the actor. */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = request.principal;
    const requestContext = {
      requestId: request.id,
      correlationId: request.id,
      causationId: request.id,
      actor: principal ? actorOf(principal) : 'anonymous',
      organisationId: principal?.kind === 'api_key' ? principal.organisationId : undefined,
    };
    return new Observable((subscriber) => runWithContext(requestContext, () => next.handle().subscribe(subscriber)));
  }
}
