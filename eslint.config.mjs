import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (docs/architecture.md draws them): imports run downwards only.
 *
 *   app         src/main.ts, app.factory.ts, app.module.ts, core.module.ts — composes everything
 *   capability  src/{organisations,inbound,incidents,triage,outbound,audit}/ — each its own; they meet through
 *               each other's contract files (events/ and commands/*.commands.ts) and the command bus, never
 *               through projections, services or other internals
 *   operations  src/observability/, src/store-admin/ — health, metrics, logs, the read side's admin routes,
 *               store backup and copy (no capability)
 *   auth        src/auth/ — authentication, organisation access and the request context, through the tenancy port
 *   contracts   src/contracts/ — what capabilities share: the normalized alert and severity scale, ids, scopes,
 *               playbook names, the tenancy and project-monitoring ports
 *   platform    src/{event-store,read-model,config,http,cqrs}/ — knows no capability
 *
 * Tests (*.spec.ts) may cross layers: they exercise collaborations. The CLI speaks only HTTP: it imports
 * nothing from src/ but the published verification rules (the hash rule and src/audit/verification/, pure
 * modules shared with the server so that offline and online verification cannot disagree).
 */
const CAPABILITIES = 'organisations|inbound|incidents|triage|outbound|audit';
const ANY_CAPABILITY = `(^|/)(${CAPABILITIES})/`;
/** What one capability may import of another: its events and its commands (the contract), nothing else. */
const CAPABILITY_INTERNALS = `(^|/)(${CAPABILITIES})/(?!events/|commands/[\\w.-]+\\.commands$)`;
/** The one exception: triage decides on incident streams (its steps are recorded there), so it folds them. */
const INCIDENT_STREAM_FOLD = '(^|/)incidents/(incident\\.aggregate|incident-state-machine)$';

const restrict = (...patterns) => ['error', { patterns: patterns.map(([regex, message]) => ({ regex, message })) }];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'openapi/', 'data/', 'cli/towline-api.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Test helpers parse arbitrary JSON responses.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/{event-store,read-model,config,http,cqrs}/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [ANY_CAPABILITY, 'The platform knows no capability: define a port in src/contracts/ and let the capability provide it.'],
        ['(^|/)(contracts|auth|observability|store-admin)/', 'The platform sits below contracts, auth and operations.'],
      ),
    },
  },
  {
    files: ['src/contracts/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [ANY_CAPABILITY, 'Contracts sit below the capabilities: depend on a port, not on a capability.'],
        ['(^|/)(auth|observability)/', 'Contracts sit below auth and operations.'],
      ),
    },
  },
  {
    files: ['src/auth/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [ANY_CAPABILITY, 'Auth sits below the capabilities: it reaches organisations through the tenancy port.'],
        ['(^|/)observability/', 'Auth sits below operations.'],
      ),
    },
  },
  {
    files: ['src/{observability,store-admin}/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict([ANY_CAPABILITY, 'Operations know no capability: a capability registers its metrics and health itself.']),
    },
  },
  {
    files: ['src/{organisations,inbound,incidents,outbound,audit}/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict([
        CAPABILITY_INTERNALS,
        "Capabilities meet through each other's events/ and commands/*.commands.ts (and the command bus), never through internals.",
      ]),
    },
  },
  {
    files: ['src/triage/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict([
        `(?!.*${INCIDENT_STREAM_FOLD})${CAPABILITY_INTERNALS}`,
        "Capabilities meet through each other's events/ and commands/*.commands.ts (and the command bus), never through internals.",
      ]),
    },
  },
  {
    files: ['cli/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict([
        '(^|/)src/(?!event-store/hash-chain$|audit/verification/)',
        'The CLI speaks only HTTP: it may import the published verification rules (src/event-store/hash-chain, src/audit/verification/), nothing else of the server.',
      ]),
    },
  },
);
