/**
 * "My table changed": how a projection tells whoever acts on its rows (a due-time worker) to look again. The one
 * way to signal it, for any number of listeners; a listener must be cheap (arm a timer), never read the table
 * itself here — the projection is inside its batch's transaction when it notifies.
 */
export class TableChanges {
  private readonly listeners = new Set<() => void>();

  /** Returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
