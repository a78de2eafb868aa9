import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * Look-alike domains of an organisation's protected domains, the way phishing senders register them:
 * - `homoglyph`: the same skeleton once confusable characters are folded — Cyrillic/Greek letters that look
 *   Latin (IDN, `xn--…`, decoded with node:url's domainToUnicode), accents, `1`→`l`, `0`→`o`, `rn`→`m`, `vv`→`w`;
 *   `idn` is set when the domain itself holds non-ASCII characters;
 * - `edit_distance`: a registrable name within a small Damerau-Levenshtein distance (typos, a swapped pair, a
 *   changed top-level domain);
 * - `embedded`: the protected domain spelled out as labels of another domain (`paypal.com.secure-login.net`).
 * The protected domain itself and its subdomains are never look-alikes.
 */

export type LookalikeTechnique = 'homoglyph' | 'edit_distance' | 'embedded';

export interface LookalikeMatch {
  domain: string;
  /** The domain as a person reads it (IDN decoded). */
  unicode: string;
  protected: string;
  technique: LookalikeTechnique;
  idn: boolean;
  /** Damerau-Levenshtein distance between the registrable domains as a person reads them. */
  distance: number;
}

/** Characters that render like a Latin letter (or digit) in common fonts, folded onto it. A Map: it is keyed by the sender's text. */
const CONFUSABLES: ReadonlyMap<string, string> = new Map(Object.entries({
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't',
  у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ո: 'n', ս: 'u', օ: 'o',
  // Greek
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Latin look-alikes and digits
  ı: 'i', ł: 'l', ɡ: 'g', ɑ: 'a', ǀ: 'l', ℓ: 'l', '0': 'o', '1': 'l', '3': 'e', '5': 's', '|': 'l',
}));
const SEQUENCES: readonly [RegExp, string][] = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/cl/g, 'd'],
];

/** Second-level suffixes under which the registrable name is the third label from the right. */
const SECOND_LEVEL = new Set(['co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'co.jp', 'com.br', 'com.cn', 'co.in', 'co.za', 'com.mx']);

export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** The registrable part: `login.paypal.com` → `paypal.com`, `shop.example.co.uk` → `example.co.uk`. */
export function registrableDomain(domain: string): string {
  const labels = normalizeDomain(domain).split('.');
  const keep = labels.length >= 3 && SECOND_LEVEL.has(labels.slice(-2).join('.')) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** Folds a (decoded) domain onto what it looks like: accents dropped, confusables and look-alike sequences replaced. */
export function skeleton(unicodeDomain: string): string {
  const folded = [...unicodeDomain.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()].map((c) => CONFUSABLES.get(c) ?? c).join('');
  return SEQUENCES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), folded);
}

/**
 * Damerau-Levenshtein distance (unrestricted: transpositions of already edited substrings count too), the
 * Lowrance–Wagner algorithm over code points.
 */
export function damerauLevenshtein(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  const infinity = s.length + t.length;
  const lastRow = new Map<string, number>();
  const d: number[][] = Array.from({ length: s.length + 2 }, () => new Array<number>(t.length + 2).fill(0));
  d[0][0] = infinity;
  for (let i = 0; i <= s.length; i++) {
    d[i + 1][0] = infinity;
    d[i + 1][1] = i;
  }
  for (let j = 0; j <= t.length; j++) {
    d[0][j + 1] = infinity;
    d[1][j + 1] = j;
  }
  for (let i = 1; i <= s.length; i++) {
    let lastMatchColumn = 0;
    for (let j = 1; j <= t.length; j++) {
      const k = lastRow.get(t[j - 1]) ?? 0;
      const l = lastMatchColumn;
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      if (cost === 0) lastMatchColumn = j;
      d[i + 1][j + 1] = Math.min(
        d[i][j] + cost,
        d[i + 1][j] + 1,
        d[i][j + 1] + 1,
        d[k][l] + (i - k - 1) + 1 + (j - l - 1),
      );
    }
    lastRow.set(s[i - 1], i);
  }
  return d[s.length + 1][t.length + 1];
}

const isAscii = (text: string) => [...text].every((c) => c.charCodeAt(0) < 128);
const nameLabel = (registrable: string) => registrable.split('.')[0];

/** The distance allowed for a protected name: short names get 1, or every short domain would be a look-alike. */
function allowedDistance(protectedRegistrable: string, maxDistance: number): number {
  return nameLabel(protectedRegistrable).length <= 4 ? Math.min(1, maxDistance) : maxDistance;
}

function compare(domain: string, unicode: string, protectedDomain: string, maxDistance: number): LookalikeMatch | null {
  const idn = !isAscii(unicode);
  const candidate = registrableDomain(unicode);
  const target = registrableDomain(protectedDomain);
  const distance = damerauLevenshtein(candidate, target);
  const match = (technique: LookalikeTechnique): LookalikeMatch => ({ domain, unicode, protected: protectedDomain, technique, idn, distance });

  if (candidate !== target && skeleton(candidate) === skeleton(target)) return match('homoglyph');
  if (distance > 0 && distance <= allowedDistance(target, maxDistance)) return match('edit_distance');
  const labels = normalizeDomain(unicode);
  if (labels.startsWith(`${protectedDomain}.`) || labels.includes(`.${protectedDomain}.`)) return match('embedded');
  return null;
}

/**
 * The first protected domain `domain` imitates, or null. `maxDistance` is the edit distance still taken for
 * a typo of a protected name (names of four characters or fewer allow one).
 */
export function findLookalike(domain: string, protectedDomains: readonly string[], maxDistance = 2): LookalikeMatch | null {
  // Both spellings of every name: ASCII (xn--) to recognise the protected domain itself, Unicode to compare looks.
  const spell = (name: string) => {
    const ascii = domainToASCII(normalizeDomain(name)) || normalizeDomain(name);
    return { ascii, unicode: normalizeDomain(domainToUnicode(ascii) || ascii) };
  };
  const candidate = spell(domain);
  if (!candidate.ascii.includes('.')) return null;
  const targets = protectedDomains.map(spell);
  if (targets.some((t) => candidate.ascii === t.ascii || candidate.ascii.endsWith(`.${t.ascii}`))) return null;
  for (const target of targets) {
    const found = compare(candidate.ascii, candidate.unicode, target.unicode, maxDistance);
    if (found) return found;
  }
  return null;
}
