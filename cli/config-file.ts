import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { CliError, EXIT } from './exit-codes';

/** What `tw-cli login` keeps: the server and the key, read when neither a flag nor TW_URL / TW_API_KEY gives them. */
export interface CliConfig {
  url?: string;
  api_key?: string;
}

/**
 * `$XDG_CONFIG_HOME/towline/config.json`, else `~/.config/towline/config.json`. A relative XDG_CONFIG_HOME is
 * ignored, as the XDG base directory specification says it must be.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'towline', 'config.json');
}

/** The config file, or {} when there is none. A file that is not the JSON tw-cli writes is an error, not ignored. */
export function readConfig(path: string, warn: (line: string) => void): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`, EXIT.other, { hint: 'Fix its permissions, or delete it and run `tw-cli login` again.' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not JSON: ${(error as Error).message}`, EXIT.other, { hint: 'Delete it and run `tw-cli login` again.' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`${path} must hold a JSON object such as {"url": "…", "api_key": "tw_…"}`, EXIT.other, { hint: 'Delete it and run `tw-cli login` again.' });
  }
  const { url, api_key: apiKey } = parsed as Record<string, unknown>;
  // The key is a credential: say so when others can read it (as ssh does), but keep working.
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) warn(`warning: ${path} holds an API key and is readable by others (mode ${mode.toString(8)}): chmod 600 ${path}`);
  return { url: typeof url === 'string' ? url : undefined, api_key: typeof apiKey === 'string' ? apiKey : undefined };
}

/**
 * Writes the file readable by its owner only (0600, in a 0700 directory), whatever the umask. Written beside
 * and renamed over, so an older file that others could read never holds the new key, even for a moment.
 */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function removeConfig(path: string): boolean {
  try {
    statSync(path);
  } catch {
    return false;
  }
  rmSync(path);
  return true;
}
