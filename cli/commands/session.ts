import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ApiClient } from '../api-client';
import { removeConfig, writeConfig } from '../config-file';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';

/** The key from standard input: typed without echo on a terminal, else the first line (`echo $KEY | tw-cli login`). */
async function readKey(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.split('\n')[0].trim();
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline echoes what is typed through _writeToOutput: print the prompt, swallow the key.
  const muted = prompt as unknown as { _writeToOutput: (text: string) => void };
  const question = 'API key (tw_…): ';
  muted._writeToOutput = (text: string) => {
    if (text.startsWith(question)) process.stderr.write(question);
  };
  const key = await new Promise<string>((resolve) => prompt.question(question, resolve));
  prompt.close();
  process.stderr.write('\n');
  return key.trim();
}

/** `tw-cli login` and `logout`: the settings kept for later runs. */
export function registerSession(program: Command, cli: CliContext): void {
  program
    .command('login')
    .description('check a URL and API key against the server, then save them for later runs (mode 0600)')
    .addHelpText(
      'after',
      '\nThe file is $XDG_CONFIG_HOME/towline/config.json, else ~/.config/towline/config.json. The URL comes from --url or\n' +
        'TW_URL (else the default); the key from --api-key, TW_API_KEY, or standard input (typed without echo on a\n' +
        'terminal; `printf %s "$KEY" | tw-cli login` in a script). Flags and TW_URL / TW_API_KEY still win over the file.',
    )
    .action(async () => {
      const settings = cli.settings();
      const apiKey = settings.keyOrigin === 'file' ? await readKey() : settings.apiKey;
      if (!apiKey) throw new CliError('No API key given', EXIT.usage, { hint: 'Pass --api-key tw_…, set TW_API_KEY, or type it when asked.' });
      const api = new ApiClient(settings.url, apiKey, settings.keyOrigin === 'file' ? 'flag' : settings.keyOrigin);
      // Saved only once the server is Towline and takes the key: a typo must not be kept for every later run.
      const organisations = await api.request<{ id: string; name: string }[]>('GET', '/api/organisations');
      const path = cli.configPath();
      writeConfig(path, { url: settings.url.href, api_key: apiKey });
      const names = organisations.map((o) => o.name).join(', ');
      cli.print({ url: settings.url.href, config_file: path, organisations }, () =>
        `Logged in to ${settings.url.href}${names ? ` (organisations: ${names})` : ''}. Saved to ${path} (mode 0600); TW_URL, TW_API_KEY and the flags still win over it.`,
      );
    });

  program
    .command('logout')
    .description('delete the config file that `tw-cli login` wrote')
    .action(() => {
      const path = cli.configPath();
      const removed = removeConfig(path);
      cli.print({ removed, config_file: path }, () => (removed ? `Removed ${path}.` : `Nothing to remove: ${path} does not exist.`));
    });
}
