import type { Scope } from '../contracts/scopes';

/** Who is calling: the instance admin, or an organisation's API key. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'api_key'; keyId: string; organisationId: string; scopes: Scope[] };

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.kind === 'admin' || principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

export function actorOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : `api-key:${principal.keyId}`;
}
