import type { Command } from 'commander';
import type { CliContext } from '../context';
import { fields, table } from '../output';
import { parseList } from '../parsers';
import type { Schema } from '../api';

type Organisation = Schema<'OrganisationDto'>;

type ApiKey = Schema<'ApiKeyDto'>;

type Monitoring = Schema<'MonitoringDto'>;

const SCOPES = 'admin, read, sources:write, webhooks:write, events:write, incidents:write, audit:read';
const ORGANISATION = "organisation (default: the API key's own, or default)";

/** `tw-cli orgs …` (create: instance admin key only). */
export function registerOrgs(program: Command, cli: CliContext): void {
  const orgs = program.command('orgs').description('organisations: the tenants of this instance');

  orgs
    .command('create <name>')
    .description('create an organisation (instance admin key only)')
    .action(async (name: string) => {
      const created = await cli.api().request<Organisation>('POST', '/api/organisations', { name });
      cli.print(created, () => `Created organisation ${created.name}: ${created.id}`);
    });

  orgs
    .command('list')
    .description('list organisations: all with the instance admin key, its own with an organisation key')
    .action(async () => {
      const found = await cli.api().request<Organisation[]>('GET', '/api/organisations');
      cli.print(found, () =>
        found.length
          ? table(found, [
              { header: 'ID', value: (o) => o.id },
              { header: 'NAME', value: (o) => o.name },
              { header: 'CREATED', value: (o) => o.created_at },
            ])
          : 'No organisations.',
      );
    });

  orgs
    .command('show <id>')
    .description('show an organisation (`default` names the default organisation)')
    .action(async (id: string) => {
      const found = await cli.api().request<Organisation>('GET', `/api/organisations/${encodeURIComponent(id)}`);
      cli.print(found, () => fields([['organisation', found.id], ['name', found.name], ['created', found.created_at]]));
    });
}

/** `tw-cli keys …`: an organisation's API keys (the `admin` scope or the instance admin key). */
export function registerKeys(program: Command, cli: CliContext): void {
  const keys = program.command('keys').description("API keys of an organisation (needs the admin scope); a key is shown only when it is created");
  const base = async (organisation?: string) => `/api/organisations/${await cli.organisation(organisation)}/api-keys`;

  keys
    .command('create <name>')
    .description('issue an API key; the key itself is printed only this once')
    .requiredOption('--scopes <scopes>', `comma-separated: ${SCOPES}`, parseList)
    .option('--organisation <id>', ORGANISATION)
    .action(async (name: string, options: { scopes: string[]; organisation?: string }) => {
      const created = await cli.api().request<ApiKey & { key: string }>('POST', await base(options.organisation), { name, scopes: options.scopes });
      cli.print(created, () => [`Created API key ${created.name} (${created.id}), scopes ${created.scopes.join(', ')}`, `  key  ${created.key}   (shown only now: store it)`].join('\n'));
    });

  keys
    .command('list')
    .description('list the API keys (never their secrets), revoked ones included')
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: { organisation?: string }) => {
      const found = await cli.api().request<ApiKey[]>('GET', await base(options.organisation));
      cli.print(found, () =>
        found.length
          ? table(found, [
              { header: 'ID', value: (k) => k.id },
              { header: 'NAME', value: (k) => k.name },
              { header: 'SCOPES', value: (k) => k.scopes.join(',') },
              { header: 'CREATED', value: (k) => k.created_at },
              { header: 'REVOKED', value: (k) => k.revoked_at },
            ])
          : 'No API keys.',
      );
    });

  keys
    .command('revoke <id>')
    .description('revoke an API key, effective immediately')
    .option('--organisation <id>', ORGANISATION)
    .action(async (id: string, options: { organisation?: string }) => {
      await cli.api().request('DELETE', `${await base(options.organisation)}/${encodeURIComponent(id)}`);
      cli.print({ revoked: id }, () => `Revoked API key ${id}.`);
    });
}

/** `tw-cli projects …`: projects, and pausing their continuous monitoring (which emits ascam.paused / ascam.resumed). */
export function registerProjects(program: Command, cli: CliContext): void {
  const projects = program.command('projects').description("an organisation's projects, and pausing or resuming their monitoring");
  const base = async (organisation?: string) => `/api/organisations/${await cli.organisation(organisation)}/projects`;
  const monitoring = async (organisation: string | undefined, project: string, action = '') =>
    `${await base(organisation)}/${encodeURIComponent(project)}/monitoring${action}`;
  const describe = (m: Monitoring) => `Monitoring of project ${m.project_id} is ${m.paused ? `paused${m.reason ? ` (${m.reason})` : ''}` : 'running'}${m.since ? ` since ${m.since}` : ''}.`;

  projects
    .command('create <name>')
    .description('create a project (needs the admin scope)')
    .option('--organisation <id>', ORGANISATION)
    .action(async (name: string, options: { organisation?: string }) => {
      const created = await cli.api().request<Organisation>('POST', await base(options.organisation), { name });
      cli.print(created, () => `Created project ${created.name}: ${created.id}`);
    });

  projects
    .command('list')
    .description('list the projects')
    .option('--organisation <id>', ORGANISATION)
    .action(async (options: { organisation?: string }) => {
      const found = await cli.api().request<Organisation[]>('GET', await base(options.organisation));
      cli.print(found, () =>
        found.length
          ? table(found, [
              { header: 'ID', value: (p) => p.id },
              { header: 'NAME', value: (p) => p.name },
              { header: 'CREATED', value: (p) => p.created_at },
            ])
          : 'No projects.',
      );
    });

  projects
    .command('status <project-id>')
    .description('whether monitoring of the project is paused')
    .option('--organisation <id>', ORGANISATION)
    .action(async (project: string, options: { organisation?: string }) => {
      const state = await cli.api().request<Monitoring>('GET', await monitoring(options.organisation, project));
      cli.print(state, () => describe(state));
    });

  projects
    .command('pause <project-id>')
    .description('pause monitoring of the project (emits ascam.paused); pausing a paused project changes nothing')
    .option('--reason <text>', 'why, e.g. "Maintenance window"')
    .option('--organisation <id>', ORGANISATION)
    .action(async (project: string, options: { reason?: string; organisation?: string }) => {
      const state = await cli.api().request<Monitoring>('POST', await monitoring(options.organisation, project, '/pause'), { reason: options.reason });
      cli.print(state, () => describe(state));
    });

  projects
    .command('resume <project-id>')
    .description('resume monitoring of the project (emits ascam.resumed)')
    .option('--organisation <id>', ORGANISATION)
    .action(async (project: string, options: { organisation?: string }) => {
      const state = await cli.api().request<Monitoring>('POST', await monitoring(options.organisation, project, '/resume'));
      cli.print(state, () => describe(state));
    });
}
