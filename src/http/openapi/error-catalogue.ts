/**
 * Every error code a client can see, with its status, what it means, and an example as the server words it.
 * The OpenAPI document takes its error responses from here (api-errors.decorator.ts per operation,
 * openapi-document.ts for the outcomes every operation of a kind shares), so each status of each operation
 * lists the codes it can carry and shows a real answer for each, not one generic `invalid_request`.
 *
 * The messages are the ones the code throws (src/**: AppError and its helpers, error-response.ts), with
 * example values filled in; test/e2e/openapi.e2e-spec.ts provokes a sample of them on a live server and
 * compares. A new code thrown anywhere belongs here too, and in the operations that can answer it.
 */
export interface ErrorCodeEntry {
  status: number;
  /** The code on the wire, when this entry is a variant of another code with its own wording (default: the key). */
  code?: string;
  /** What it means and what to do: becomes part of the response's description. */
  meaning: string;
  /** The answer's message (and details) as the server gives it. */
  message: string;
  details?: unknown;
}

export const ERROR_CODES = {
  // 400
  invalid_request: {
    status: 400,
    meaning: 'the body, a query or a path parameter is malformed; `details` lists each failing field as {field, problems}',
    message:
      'name must not start or end with white space; name must be longer than or equal to 1 and shorter than or equal to 100 characters; name must be a string',
    details: [
      {
        field: 'name',
        problems: [
          'name must not start or end with white space',
          'name must be longer than or equal to 1 and shorter than or equal to 100 characters',
          'name must be a string',
        ],
      },
    ],
  },
  invalid_json: {
    status: 400,
    code: 'invalid_request',
    meaning: 'the body is not JSON, nests deeper than 64 levels, has a `__proto__` key or an unpaired surrogate',
    message: "Body is not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
  },
  invalid_payload: {
    status: 400,
    meaning: 'the alert body is not JSON, nests deeper than 64 levels, holds an unpaired surrogate, or is neither an object nor a non-empty array of objects',
    message: 'Payload contains no alerts',
  },
  unknown_playbook: {
    status: 400,
    meaning: 'no playbook of that name exists; the message lists the known ones',
    message: "Playbook 'phishing' does not exist; known playbooks: phishing_triage, malware_triage, default_triage",
  },
  invalid_url: {
    status: 400,
    meaning: 'the URL is not absolute http(s), is http without TW_ALLOW_INSECURE_WEBHOOKS, carries credentials or a fragment, or is too long',
    message: 'url must be http or https',
  },
  unsafe_url: {
    status: 400,
    meaning: 'the URL names or resolves to an address the SSRF guard refuses (loopback, private, link-local…)',
    message: '169.254.169.254 resolves to a refused address: 169.254.169.254 is link-local (cloud metadata services live here)',
  },
  invalid_idempotency_key: {
    status: 400,
    meaning: 'the Idempotency-Key header is not 1 to 255 visible ASCII characters',
    message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
  },
  invalid_event: {
    status: 400,
    meaning:
      "unknown event type, data not matching the type's schema, a contradicted severity, a reserved type, or a project of another organisation; `details` lists each error as {path, message}",
    message: 'data does not match the schema of finding.created',
    details: [{ path: '/data', message: "must have required property 'finding_id'" }],
  },
  invalid_connection_string: {
    status: 400,
    meaning: 'the EventStoreDB connection string does not parse',
    message: 'to: Unexpected "h" at position 0, expected esdb:// or esdb+discover://',
  },
  backup_path_outside_data_dir: {
    status: 400,
    meaning: 'the backup path lies outside TW_DATA_DIR',
    message: "The backup path must lie inside the data directory (/var/lib/towline); got '/tmp/backup.sqlite'",
  },
  backup_path_reserved: {
    status: 400,
    meaning: "the backup path is one of the live store's own files",
    message: "'events.sqlite' is one of the live store's own files",
  },
  invalid_consistency_token: {
    status: 400,
    code: 'invalid_request',
    meaning: 'the Towline-Consistency header is not a token Towline answered with',
    message: 'towline-consistency is not a token Towline answered with',
    details: [{ field: 'towline-consistency', problems: ['is invalid'] }],
  },
  // 401
  unauthorized: {
    status: 401,
    meaning: 'the Authorization header is missing, not `Bearer tw_…`, or names an unknown or revoked key',
    message: 'Missing Authorization header',
  },
  timestamp_expired: {
    status: 401,
    meaning: 'X-Webhook-Timestamp is missing, not Unix seconds, or more than 5 minutes from the server clock',
    message: 'Webhook timestamp is too old (>5 minutes)',
  },
  invalid_signature: {
    status: 401,
    meaning: 'no active secret of the source signed `<timestamp>.<raw body>` as X-Webhook-Signature says',
    message: 'Webhook signature verification failed',
  },
  metrics_unauthorized: {
    status: 401,
    code: 'unauthorized',
    meaning: 'TW_METRICS_TOKEN is set and the request does not bear it',
    message: 'GET /metrics requires the TW_METRICS_TOKEN bearer token',
  },
  // 403
  forbidden: {
    status: 403,
    meaning: 'the key lacks the scope the operation requires, or the operation is for the instance admin key only',
    message: "This API key lacks the 'read' scope",
  },
  // 404
  not_found: {
    status: 404,
    meaning: "no such resource in the caller's organisation (another organisation's answers the same)",
    message: "Organisation 'b9c3e0a2-5f1d-4c11-9e0b-6f3f2c1d7a10' not found",
  },
  unknown_source: {
    status: 404,
    meaning: 'no webhook source of that name is registered',
    message: "Webhook source 'unknown' is not registered",
  },
  // 409
  conflict: {
    status: 409,
    meaning: 'the resource changed concurrently: retry the request',
    message: 'The resource changed concurrently; retry the request',
  },
  invalid_transition: {
    status: 409,
    meaning: 'the incident lifecycle does not allow this from the current state; `details.current_state` names it',
    message: 'Cannot acknowledge incident INC-2026-0001: it is closed',
    details: { current_state: 'closed', allowed_from: ['open', 'needs_manual_triage'] },
  },
  source_exists: { status: 409, meaning: 'a source of that name is already registered', message: "Webhook source 'email-gateway' already exists" },
  source_managed_by_config: {
    status: 409,
    meaning: 'the source is declared in the configuration file (TW_CONFIG): change it there',
    message: "Webhook source 'email-gateway' is declared in the configuration file (TW_CONFIG); change it there",
  },
  project_exists: { status: 409, meaning: 'the organisation already has a project of that name', message: "A project named 'Payments' already exists" },
  webhook_limit_reached: { status: 409, meaning: 'the organisation already has 10 webhooks', message: 'An organisation has at most 10 webhooks' },
  webhook_disabled: { status: 409, meaning: 'the webhook is disabled (or deleted): enable it first', message: 'The webhook is disabled; enable it first' },
  delivery_in_progress: { status: 409, meaning: 'the delivery is still pending or retrying', message: 'The delivery is still being attempted' },
  idempotency_key_in_progress: {
    status: 409,
    meaning: 'a request with this Idempotency-Key is still being processed',
    message: 'A request with this Idempotency-Key is still being processed',
  },
  backup_in_progress: { status: 409, meaning: 'a backup is already running', message: 'A backup is already running: wait for it to finish' },
  backup_exists: {
    status: 409,
    meaning: 'the backup file already exists',
    message: '/var/lib/towline/backups/towline-2026-01-15T10-00-00Z.sqlite already exists: choose another path',
  },
  backup_not_supported_in_memory: {
    status: 409,
    meaning: 'TW_DATA_DIR=:memory: has no file to back up',
    message: 'TW_DATA_DIR=:memory: keeps the store in memory: there is no file to back up',
  },
  backup_not_supported_on_eventstoredb: {
    status: 409,
    meaning: "the events are in EventStoreDB: back it up with EventStoreDB's own tools",
    message:
      "This instance keeps its events in EventStoreDB: back it up with EventStoreDB's own backup (file-copy or disk snapshot of the database directory, see docs/store.md), not through Towline",
  },
  copy_in_progress: {
    status: 409,
    meaning: 'a copy is already running',
    message: 'A copy is already running (job 3f6c9a4e-0d2b-4c1e-8f5a-7b9d2e1c4a60): wait for it to finish',
  },
  copy_source_not_embedded: {
    status: 409,
    meaning: 'the events are already in EventStoreDB',
    message: 'This instance already keeps its events in EventStoreDB: the copy moves an embedded (SQLite) store there',
  },
  // 413
  payload_too_large: { status: 413, meaning: 'the body exceeds TW_BODY_LIMIT', message: 'Request body is too large' },
  too_many_alerts: {
    status: 413,
    meaning: 'more alerts than TW_WEBHOOK_MAX_ALERTS in one request: split the batch',
    message: 'A request may carry at most 500 alerts (TW_WEBHOOK_MAX_ALERTS); this one has 600: split the batch',
  },
  event_too_large: {
    status: 413,
    meaning: "the event the request records would exceed the store's limit (TW_MAX_APPEND_SIZE)",
    message: "The event this request records would be 1100000 bytes, over the store's limit of 1048576 bytes (TW_MAX_APPEND_SIZE)",
    details: { size: 1100000, max_append_size: 1048576 },
  },
  // 415
  unsupported_media_type: { status: 415, meaning: 'the body is not sent as application/json', message: 'Content-Type must be application/json' },
  // 422
  idempotency_key_reused: {
    status: 422,
    meaning: 'this Idempotency-Key was used with another request body',
    message: 'This Idempotency-Key was used with another request body',
  },
  // 429
  rate_limited: {
    status: 429,
    meaning: 'over the rate limit (per key, or per source on the receiver); Retry-After and RateLimit-* say when to retry',
    message: 'Rate limit exceeded: at most 1200 requests per 1m; retry in 12 seconds',
  },
  // 500
  internal_error: { status: 500, meaning: 'a bug or an unexpected failure; the log has the detail, the answer reveals nothing', message: 'Internal server error' },
  backup_verification_failed: {
    status: 500,
    meaning: 'the backup was written but does not verify (it is removed)',
    message: 'The backup does not verify: 1 stream(s) with a broken hash chain',
  },
  // 503
  store_unavailable: {
    status: 503,
    meaning: 'the event store does not answer (a leader election, a node away): retry after Retry-After seconds',
    message: 'The event store is unavailable; retry shortly',
  },
  consistency_timeout: {
    status: 503,
    meaning: "the read models have not reached the Towline-Consistency token's position in time: retry shortly",
    message: "This instance's read models have not reached 4812/4812 yet (waited 10 s); retry shortly",
  },
  shutting_down: { status: 503, meaning: 'the server is shutting down', message: 'The server is shutting down' },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The code an answer carries: the entry's own `code`, or its key. */
export function wireCode(code: ErrorCode): string {
  const entry: ErrorCodeEntry = ERROR_CODES[code];
  return entry.code ?? code;
}

/** The generic code of a status: what `ApiErrors(404)` stands for. */
export const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'idempotency_key_reused',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'store_unavailable',
};
