import type { components } from './towline-api';

/**
 * An answer's type as the committed OpenAPI document declares it: cli/towline-api.d.ts is generated from it by
 * `npm run openapi` and checked by `npm run openapi:check`, so tw-cli reads exactly what the server is held to
 * send (every e2e response is validated against that document) rather than copies of the server's types.
 */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];
