import type { Scope } from './scopes';

/**
 * Who exists: organisations, their projects and API keys, and the instance admin. The organisations capability
 * owns them (its events and read model) and provides this port; authentication and every other capability ask
 * it, so none of them depends on the organisations capability's internals.
 */
export interface OrganisationView {
  id: string;
  name: string;
  created_at: string;
}
export interface ProjectView {
  id: string;
  organisation_id: string;
  name: string;
  created_at: string;
}
export interface ApiKeyView {
  id: string;
  organisation_id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  revoked_at: string | null;
}

/** `default` in a path means the instance's default organisation. */
export const DEFAULT_ORGANISATION = 'default';

export interface Tenancy {
  /** The id of the `default` organisation (known once the instance has initialised). */
  readonly defaultOrganisationId: string;
  /** Compared in constant time with the instance admin key's hash. */
  isAdminKey(key: string): boolean;
  activeKeyByHash(keyHash: string): ApiKeyView | undefined;
  organisation(id: string): OrganisationView | undefined;
  project(organisationId: string, projectId: string): ProjectView | undefined;
}

export const TENANCY = Symbol('TENANCY');
