import { ValidateBy, type ValidationOptions } from 'class-validator';
import { invalidRequest } from '../../http/app-error';

/** A point in time in a query: unix seconds, or an ISO 8601 date-time. */
const UNIX_SECONDS = /^\d{1,12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** In a JSON body, unix seconds may also come as a JSON number (a whole one). */
export const isInstant = (value: unknown) =>
  (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < 1e12) ||
  (typeof value === 'string' && (UNIX_SECONDS.test(value) || (ISO.test(value) && !Number.isNaN(Date.parse(value)))));

export const IsInstant = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isInstant', validator: { validate: isInstant, defaultMessage: (a) => `${a?.property} must be unix seconds or an ISO 8601 date-time` } }, options);

/** Epoch milliseconds of an instant that passed IsInstant. */
export function instantMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  return UNIX_SECONDS.test(value) ? Number(value) * 1000 : Date.parse(value);
}

/** Opaque page cursors: the position in a table, base64url-wrapped so clients do not build them. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`c1:${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const match = /^c1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw invalidRequest('cursor is not a cursor this API returned', [{ field: 'cursor', problems: ['is invalid'] }]);
  return Number(match[1]);
}

export const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
