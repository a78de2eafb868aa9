/**
 * The one rule for rotating a shared secret with a grace period, for inbound sources (the secret senders sign
 * with) and outbound webhooks (the secret Towline signs with): after a rotation, every previous secret expires
 * at the end of the grace period — or earlier, if it was already due to — and ones already expired by then are
 * dropped; the new one does not expire until the next rotation. Times are ISO-8601 UTC strings of one format,
 * which compare in time order.
 */
export interface RotatingSecret {
  id: string;
  expiresAt: string | null;
}

/** The secrets after a rotation to `fresh` at `rotatedAt`. Applying the same rotation twice changes nothing. */
export function rotateSecrets<S extends RotatingSecret>(secrets: readonly S[], fresh: S, rotatedAt: string, previousExpireAt: string): S[] {
  if (secrets.some((s) => s.id === fresh.id)) return [...secrets];
  const previous = secrets
    .map((s) => ({ ...s, expiresAt: s.expiresAt !== null && s.expiresAt < previousExpireAt ? s.expiresAt : previousExpireAt }))
    .filter((s) => s.expiresAt > rotatedAt);
  return [...previous, { ...fresh, expiresAt: null }];
}

/** The secrets in force at `nowMs`, oldest first: the current one (last) and older ones inside their grace period. */
export function activeSecrets<S extends { expiresAt: string | null }>(secrets: readonly S[], nowMs: number): S[] {
  return secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > nowMs);
}
