import type { DestinationStream } from 'pino';

/** The most recent log lines, for `GET /api/logs` (`tw-cli logs`): a bounded window in memory, not an archive. */
export const LOG_WINDOW = 1000;

/**
 * A pino destination that keeps the last `capacity` lines as written (already redacted by the logger).
 * Lines are parsed only when read, so logging stays as cheap as writing to a file.
 */
export class LogBuffer implements DestinationStream {
  private readonly lines: string[] = [];
  private next = 0;

  constructor(readonly capacity = LOG_WINDOW) {}

  write(line: string): void {
    if (this.lines.length < this.capacity) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
  }

  /**
   * The last `count` records, oldest first; with `filter`, the last `count` whose line contains it
   * (case-insensitive), as `grep -i` would pick them.
   */
  tail(count: number, filter?: string): Record<string, unknown>[] {
    const ordered = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    const needle = filter?.toLowerCase();
    const picked: string[] = [];
    for (let i = ordered.length - 1; i >= 0 && picked.length < count; i--) {
      if (needle === undefined || ordered[i].toLowerCase().includes(needle)) picked.push(ordered[i]);
    }
    return picked.reverse().map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
