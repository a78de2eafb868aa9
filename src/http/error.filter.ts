import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toErrorResponse } from './error-response';

@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const { status, body, headers } = toErrorResponse(error);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (headers) void reply.headers(headers);
    void reply.status(status).send(body);
  }
}
