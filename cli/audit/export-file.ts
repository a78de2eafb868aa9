import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ExportOptions {
  /** One stream (from a revision), or the whole log the key may read (since a time). */
  stream?: string;
  fromRevision?: number;
  since?: string;
  /** Called as records arrive: how many so far, and the log position reached (all) against the head. */
  onProgress?: (progress: { records: number; position: number | null; head: number | null }) => void;
}

export class ExportError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

/**
 * Streams an export from the server's NDJSON endpoints into `out`, line for line as the server sent them (no
 * re-serialisation: the bytes verified are the bytes served), with backpressure end to end: a slow disk slows
 * the download, memory stays flat.
 */
export async function exportRecords(baseUrl: URL, apiKey: string, options: ExportOptions, out: Writable): Promise<number> {
  const url = options.stream
    ? new URL(`api/audit/streams/${encodeURIComponent(options.stream)}`, baseUrl)
    : new URL('api/audit/all', baseUrl);
  if (options.stream && options.fromRevision !== undefined) url.searchParams.set('from', String(options.fromRevision));
  if (!options.stream && options.since) url.searchParams.set('since', options.since);
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/x-ndjson' } });
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error: { code: string; message: string } }).error.message;
    } catch {
      // not Towline's JSON error: keep the text
    }
    throw new ExportError(`Export failed (${response.status}): ${message}`, response.status);
  }
  const head = Number(response.headers.get('x-towline-head-position')?.split('/')[0] ?? NaN);
  let records = 0;
  let pending = '';
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      // Counts lines and reads the position of the last complete one, for the progress bar only.
      const text = pending + chunk.toString('utf8');
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      if (lines.length > 0) {
        records += lines.length;
        const position = /"position":"(\d+)\//.exec(lines[lines.length - 1])?.[1];
        options.onProgress?.({ records, position: position ? Number(position) : null, head: Number.isFinite(head) ? head : null });
      }
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), counter, out);
  return records;
}
