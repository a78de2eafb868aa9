import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildOpenApiDocument, createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';

/**
 * Writes openapi/openapi.json and openapi/openapi.yaml from the code (controllers and DTOs), so the committed
 * document can never drift from what the server serves at /openapi.json. `npm run openapi` runs it; a test
 * fails when the committed files are stale.
 */
export async function generateOpenApi(): Promise<{ json: string; yaml: string }> {
  const config = loadConfig({ TW_DATA_DIR: ':memory:', TW_LOG_LEVEL: 'silent', TW_ADMIN_KEY: `tw_${'0'.repeat(43)}` });
  const app = await createApp(config);
  try {
    const document = buildOpenApiDocument(app);
    // No anchors or aliases: SnakeYAML refuses them and Jackson reads aliases as strings (one copy per use instead).
    // Written for YAML 1.1 readers too (PyYAML, SnakeYAML): a string that 1.1 would read as a date, a boolean
    // (yes, on) or a sexagesimal number is quoted, so every reader gets the strings the JSON has.
    return {
      json: JSON.stringify(document, null, 2) + '\n',
      yaml: stringify(document, { aliasDuplicateObjects: false, schema: 'yaml-1.1' }),
    };
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  void generateOpenApi().then(({ json, yaml }) => {
    const dir = join(__dirname, '..', '..', 'openapi');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'openapi.json'), json);
    writeFileSync(join(dir, 'openapi.yaml'), yaml);
    console.log(`Wrote ${dir}/openapi.json and openapi.yaml`);
  });
}
