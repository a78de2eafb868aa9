/**
 * API key scopes. `admin` grants every scope inside the key's own organisation; the instance admin key
 * (TW_ADMIN_KEY) grants every scope in every organisation.
 */
export const SCOPES = [
  'admin',
  'read',
  'sources:write',
  'webhooks:write',
  'events:write',
  'incidents:write',
  'audit:read',
] as const;

export type Scope = (typeof SCOPES)[number];
