import { domainToASCII, domainToUnicode } from 'node:url';
import { getDomain, getDomainWithoutSuffix } from 'tldts';
import unhomoglyph from 'unhomoglyph';

/**
 * Look-alike domains of an organisation's protected domains, the way phishing senders register them:
 * - `homoglyph`: the same skeleton once confusable characters are folded — Cyrillic/Greek letters that look
 *   Latin (IDN, `xn--…`, decoded with node:url's domainToUnicode), accents, `1`→`l`, `0`→`o`, `rn`→`m`, `vv`→`w`;
 *   `idn` is set when the domain itself holds non-ASCII characters;
 * - `edit_distance`: a registrable name within a small Damerau-Levenshtein distance (typos, a swapped pair, a
 *   changed top-level domain);
 * - `other_suffix`: the same name, or a homoglyph of it, registered under another public suffix (`paypal.co.kr`,
 *   `paypa1.co.kr`, the private suffix `paypal.github.io`), by the Public Suffix List (tldts);
 * - `embedded`: the protected domain spelled out as labels of another domain (`paypal.com.secure-login.net`).
 * The protected domain itself and its subdomains are never look-alikes.
 */

export type LookalikeTechnique = 'homoglyph' | 'edit_distance' | 'other_suffix' | 'embedded';

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

/**
 * Look-alikes the Unicode confusables data (UTS #39, as unhomoglyph ships it) folds elsewhere than a reader of a
 * lowercase domain would: it maps the Cyrillic palochka to `i`, but in a domain it passes for `l`. Applied after
 * the library. A Map: it is keyed by the sender's text.
 */
const DOMAIN_FOLDS: ReadonlyMap<string, string> = new Map([['ӏ', 'l'], ['ǀ', 'l'], ['|', 'l']]);
/** Letter pairs that read as one letter; the confusables data folds `m` to `rn` itself, these it leaves alone. */
const SEQUENCES: readonly [RegExp, string][] = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/cl/g, 'd'],
];

/** Public suffixes include private ones (github.io, blogspot.com): `paypal.github.io` is a site of its own. */
const PSL_OPTIONS = { allowPrivateDomains: true } as const;

export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * The registrable part by the Public Suffix List (tldts): `login.paypal.com` → `paypal.com`,
 * `shop.example.co.uk` → `example.co.uk`, `paypal.github.io` stays itself. A name the list knows nothing of
 * (a bare host, an IP) is returned as it is.
 */
export function registrableDomain(domain: string): string {
  const normalized = normalizeDomain(domain);
  return getDomain(normalized, PSL_OPTIONS) ?? normalized;
}

/** The registrable domain without its public suffix: `paypal` for `paypal.co.kr`, `paypal.github.io` and `paypal.com`. */
export function registrableName(domain: string): string {
  const normalized = normalizeDomain(domain);
  return getDomainWithoutSuffix(normalized, PSL_OPTIONS) ?? normalized.split('.')[0] ?? normalized;
}

/**
 * Folds a (decoded) domain onto what it looks like: accents dropped (NFKD), every character the Unicode
 * confusables data knows replaced by its prototype (Cyrillic, Greek, Armenian, Cherokee, digits `1`/`0`, …),
 * then look-alike letter pairs.
 */
export function skeleton(unicodeDomain: string): string {
  const unaccented = unicodeDomain.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const local = [...unaccented].map((c) => DOMAIN_FOLDS.get(c) ?? c).join('');
  const folded = unhomoglyph(local).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
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
/** The distance allowed for a protected name: short names get 1, or every short domain would be a look-alike. */
function allowedDistance(protectedRegistrable: string, maxDistance: number): number {
  return [...registrableName(protectedRegistrable)].length <= 4 ? Math.min(1, maxDistance) : maxDistance;
}

function compare(domain: string, unicode: string, protectedDomain: string, maxDistance: number): LookalikeMatch | null {
  const idn = !isAscii(unicode);
  const candidate = registrableDomain(unicode);
  const target = registrableDomain(protectedDomain);
  const distance = damerauLevenshtein(candidate, target);
  const match = (technique: LookalikeTechnique): LookalikeMatch => ({ domain, unicode, protected: protectedDomain, technique, idn, distance });

  if (candidate === target) return null;
  if (skeleton(candidate) === skeleton(target)) return match('homoglyph');
  if (distance <= allowedDistance(target, maxDistance)) return match('edit_distance');
  // Under another suffix only the same name or a homoglyph of it counts: a typo of a common word
  // (apple → apply) under any of the world's suffixes would flag half the web.
  const name = registrableName(unicode);
  const targetName = registrableName(protectedDomain);
  if (name === targetName) return match('other_suffix');
  if (skeleton(name) === skeleton(targetName)) return match('homoglyph');
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
