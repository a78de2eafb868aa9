/**
 * tw-cli's exit codes, one per class of failure, so a script can tell "fix your command" from "try again
 * later" without parsing messages. Documented in docs/cli.md; never renumber one.
 */
export const EXIT = {
  ok: 0,
  /** Anything not below, e.g. a test event the server refused, an unreadable file. */
  other: 1,
  /** The command line, or the values it sent (the server's 400, 413, 415), are wrong. */
  usage: 2,
  /** No API key, or the server refused it (401) or its scope (403). */
  auth: 3,
  /** 404: the resource (or the organisation) does not exist for this key. */
  notFound: 4,
  /** 409: the name is taken, or the resource's state does not allow it (invalid_transition, webhook_disabled…). */
  conflict: 5,
  /** 5xx, 429, or an answer that is not Towline's JSON (a proxy's error page). */
  server: 6,
  /** The server could not be reached: refused, unknown host, timed out, TLS failure. */
  network: 7,
  /** Something answered at the URL, but it is not a Towline server. */
  notTowline: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error tw-cli reports on one line (plus details and a hint), never with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.other,
    readonly options: {
      /** The server's stable error code, when the server answered. */
      code?: string;
      status?: number;
      /** Lines under the message: the fields a 400 names, for example. */
      details?: string[];
      /** What to do about it. */
      hint?: string;
      requestId?: string;
    } = {},
  ) {
    super(message);
  }

  get code(): string | undefined {
    return this.options.code;
  }

  get status(): number | undefined {
    return this.options.status;
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 429 || status >= 500) return EXIT.server;
  if (status >= 400) return EXIT.usage;
  return EXIT.other;
}
