/**
 * Cutting text for people (titles, error messages) without ever producing invalid Unicode. `slice` counts
 * UTF-16 code units, so a cut through an emoji leaves a lone surrogate, which RFC 8785 canonicalisation (the
 * event hash) refuses: the alert that carried it was lost with a 500. Cutting between grapheme clusters also
 * keeps a flag, a skin tone or a ZWJ family whole.
 */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` when it has at most `max` UTF-16 code units, else its longest prefix of whole grapheme clusters
 * that fits in `max` together with `ellipsis`, followed by it. The result never exceeds `max` code units
 * (a limit such as Slack's is counted that way), and is well-formed whenever `text` is.
 */
export function truncateText(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  const room = max - ellipsis.length;
  let end = 0;
  for (const { index, segment } of graphemes.segment(text)) {
    if (index + segment.length > room) break;
    end = index + segment.length;
  }
  return `${text.slice(0, end)}${ellipsis}`;
}

/** ES2024's String.prototype.isWellFormed (native since Node 20); the project's TypeScript lib predates it. */
export const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * A string with an unpaired surrogate (`"\ud800"` in JSON) cannot be hashed, stored or sent as UTF-8. Where the
 * first string or key holding one sits in a parsed JSON value ('data.title', 'alerts[3]'), or undefined.
 * Iterative, so depth is no concern (bodies are depth-checked before they get here anyway).
 */
export function loneSurrogatePath(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (!isWellFormed(current)) return path === '' ? '(body)' : path;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${path}[${i}]`]);
      continue;
    }
    for (const [key, child] of Object.entries(current)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!isWellFormed(key)) return `${path === '' ? '' : `${path}.`}${JSON.stringify(key)}`;
      stack.push([child, at]);
    }
  }
  return undefined;
}
