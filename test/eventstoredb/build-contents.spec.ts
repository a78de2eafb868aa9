import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '../..');

/** The files `npm run build` compiles into dist/, as tsc itself resolves tsconfig.build.json. */
function buildFiles(): string[] {
  const path = join(root, 'tsconfig.build.json');
  const { config } = ts.readConfigFile(path, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, dirname(path)).fileNames;
}

describe('what the build ships', () => {
  it('has no test code: nothing compiled into dist imports vitest', () => {
    const files = buildFiles();
    expect(files.length).toBeGreaterThan(50);
    const importing = files.filter((file) => /from ['"]vitest['"]/.test(readFileSync(file, 'utf8'))).map((file) => relative(root, file));
    expect(importing).toEqual([]);
  });

  it('still ships the adapters the conformance suite holds to its contract', () => {
    const files = buildFiles().map((file) => relative(root, file));
    expect(files).toContain('src/event-store/eventstoredb/eventstoredb.event-store.ts');
    expect(files).toContain('src/event-store/sqlite/sqlite.event-store.ts');
    expect(files).not.toContain('src/event-store/event-store.conformance.ts');
  });
});
