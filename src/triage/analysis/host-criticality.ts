import type { Criticality } from '../playbook-settings';

/** `*` any run of characters, `?` one character, case-insensitive, over the whole host name. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

export interface HostCriticality {
  criticality: Criticality | 'unknown';
  /** The pattern that decided it, or null when none matched. */
  pattern: string | null;
}

/** The first configured pattern the host matches decides its criticality (pure). */
export function hostCriticality(host: string | null, rules: readonly { pattern: string; criticality: Criticality }[]): HostCriticality {
  if (!host) return { criticality: 'unknown', pattern: null };
  const rule = rules.find((r) => globToRegExp(r.pattern).test(host.trim()));
  return rule ? { criticality: rule.criticality, pattern: rule.pattern } : { criticality: 'unknown', pattern: null };
}
