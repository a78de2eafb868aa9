import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal';
import type { Scope } from '../contracts/scopes';

export const PUBLIC_ROUTE = 'tw:public';
export const REQUIRED_SCOPE = 'tw:scope';
export const INSTANCE_ADMIN_ONLY = 'tw:instance-admin';

/** No API key needed (health, docs, signed inbound webhooks, which authenticate by HMAC instead). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
/** Only the instance admin key (TW_ADMIN_KEY), not an organisation's admin-scoped key. */
export const InstanceAdminOnly = () => SetMetadata(INSTANCE_ADMIN_ONLY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
