import type { ExpectedRevision } from './event-store.port';

/** The stream's current revision did not match the writer's expectation; nothing was written. */
export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's last revision, or 'no_stream' when it has no events. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Wrong expected revision on stream '${stream}': expected ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * The stream has no events. Expected control flow (every new incident's first load meets it), so it carries
 * no stack trace: capturing one was a measurable cost on the inbound path, and it would only ever point here.
 */
export class StreamNotFound extends Error {
  override readonly name = 'StreamNotFound';
  constructor(readonly stream: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`Stream '${stream}' not found`);
    Error.stackTraceLimit = limit;
  }
}
