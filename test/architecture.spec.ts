import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of docs/architecture.md are lint rules (eslint.config.mjs), so a wrong import fails CI.
 * These probes prove that the rules bite, and where the one documented exception lies.
 */
describe('the layer rules', () => {
  const eslint = new ESLint({ cwd: process.cwd() });

  async function violations(filePath: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it("refuses a capability importing another capability's internals", async () => {
    const found = await violations('src/inbound/receiving/probe.ts', "import { X } from '../../incidents/projections/incidents.projection';\nexport const y = X;\n");
    expect(found).toEqual([expect.stringMatching(/meet through each other's events/)]);
  });

  it("lets a capability use another's events and commands (the contract)", async () => {
    const code = "import { A } from '../../incidents/events/incident.events';\nimport { B } from '../../incidents/commands/incident.commands';\nexport const y = [A, B];\n";
    expect(await violations('src/outbound/producers/probe.ts', code)).toEqual([]);
  });

  it('allows triage, and only triage, to fold incident streams', async () => {
    const code = "import { Incident } from '../../incidents/incident.aggregate';\nexport const y = Incident;\n";
    expect(await violations('src/triage/runner/probe.ts', code)).toEqual([]);
    expect(await violations('src/outbound/producers/probe.ts', code)).toHaveLength(1);
  });

  it('keeps the platform, contracts and auth below every capability', async () => {
    const code = "import { X } from '../organisations/instance.service';\nexport const y = X;\n";
    expect(await violations('src/cqrs/probe.ts', code)).toHaveLength(1);
    expect(await violations('src/contracts/probe.ts', code)).toHaveLength(1);
    expect(await violations('src/auth/probe.ts', code)).toHaveLength(1);
    expect(await violations('src/cqrs/probe.ts', "import { X } from '../contracts/tenancy';\nexport const y = X;\n")).toHaveLength(1);
  });

  it('keeps the CLI on HTTP: nothing of the server but the published hash rule', async () => {
    expect(await violations('cli/probe.ts', "import { X } from '../src/inbound/signature';\nexport const y = X;\n")).toHaveLength(1);
    expect(await violations('cli/probe.ts', "import { X } from '../src/event-store/hash-chain';\nexport const y = X;\n")).toEqual([]);
  });
});
