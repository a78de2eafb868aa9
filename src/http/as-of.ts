import type { AsOfCut } from '../cqrs/read-side.runner';
import { decodePosition, encodePosition } from '../event-store/event-store.port';
import { invalidRequest } from './app-error';

/**
 * `?as_of=`: an ISO 8601 time (with its offset) or a log position as the API shows them (`<commit>/<prepare>`,
 * e.g. a Towline-Consistency token).
 */
export function parseAsOf(text: string): AsOfCut {
  if (/^\d+\/\d+$/.test(text)) return { position: decodePosition(text) };
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text) ? new Date(text) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    throw invalidRequest('as_of must be an ISO 8601 time with its offset (2026-01-01T12:00:00Z) or a log position (12345/12345)', [
      { field: 'as_of', problems: ['is not a time or a position'] },
    ]);
  }
  return { time };
}

/** The cut as an answer names it. */
export const describeAsOf = (cut: AsOfCut) => (cut.position ? encodePosition(cut.position) : cut.time!.toISOString());
