import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../http/app-error';
import { TENANCY, type Tenancy } from '../contracts/tenancy';
import { hashApiKey } from './api-key';
import { INSTANCE_ADMIN_ONLY, PUBLIC_ROUTE, REQUIRED_SCOPE } from './auth.decorators';
import { hasScope, type Principal } from './principal';
import type { Scope } from '../contracts/scopes';

const BEARER = /^Bearer\s+(tw_[A-Za-z0-9_-]{16,128})\s*$/;

/**
 * Global guard: every route needs `Authorization: Bearer tw_…` unless marked @Public(). A missing or unknown
 * key is 401; a known key without the route's scope is 403. Organisation boundaries are checked where the
 * organisation is resolved (OrganisationAccess), answering 404 so that ids of others cannot be probed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TENANCY) private readonly tenancy: Tenancy,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = this.authenticate(request.headers.authorization);
    request.principal = principal;

    if (this.reflector.getAllAndOverride<boolean>(INSTANCE_ADMIN_ONLY, targets) && principal.kind !== 'admin') {
      throw forbidden('Only the instance admin key may do this');
    }
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (scope && !hasScope(principal, scope)) throw forbidden(`This API key lacks the '${scope}' scope`);
    return true;
  }

  private authenticate(header: string | undefined): Principal {
    const key = header ? BEARER.exec(header)?.[1] : undefined;
    if (!key) throw unauthorized(header ? 'Authorization must be "Bearer tw_…"' : 'Missing Authorization header');
    if (this.tenancy.isAdminKey(key)) return { kind: 'admin' };
    const found = this.tenancy.activeKeyByHash(hashApiKey(key));
    if (!found) throw unauthorized('Invalid or revoked API key');
    return { kind: 'api_key', keyId: found.id, organisationId: found.organisation_id, scopes: found.scopes };
  }
}
