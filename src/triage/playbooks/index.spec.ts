import { describe, expect, it } from 'vitest';
import { PLAYBOOK_NAMES, PLAYBOOKS } from './index';

describe('playbook registry', () => {
  it('has one playbook per contract name, each under its own name', () => {
    expect([...PLAYBOOKS.keys()]).toEqual([...PLAYBOOK_NAMES]);
    for (const [name, playbook] of PLAYBOOKS) expect(playbook.name).toBe(name);
  });
});
