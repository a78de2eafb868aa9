/**
 * "My table changed": how a projection tells whoever acts on its rows (a due-time worker) to look again — the one
 * way to signal it, for any number of listeners, optionally saying what changed (`T`: e.g. the incident whose
 * run changed). A listener must be cheap (arm a timer) and never read the table itself here: the projection is
 * inside its batch's transaction when it notifies.
 */
export class TableChanges<T = void> {
  private readonly listeners = new Set<(change: T) => void>();

  /** Returns the unsubscribe. */
  subscribe(listener: (change: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change: T): void {
    for (const listener of this.listeners) listener(change);
  }
}
