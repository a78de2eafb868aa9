import { isRecord } from './values';

/**
 * A value by a dotted path in a document whose keys may themselves contain dots. Elastic sends the same alert
 * field as `"kibana.alert.rule.name": "x"`, as `{"kibana": {"alert": {"rule": {"name": "x"}}}}`, or any mix of the
 * two (`{"kibana.alert": {"rule.name": "x"}}`), depending on how the webhook body was templated; at each level the
 * longest own key that is a prefix of what is left wins, then the shorter ones are tried. Own keys only: a path
 * naming `constructor` or `__proto__` finds what the sender put there or nothing, never what objects inherit.
 */
export function valueAt(document: unknown, path: string): unknown {
  return lookup(document, path.split('.'), 0);
}

function lookup(value: unknown, segments: readonly string[], depth: number): unknown {
  if (segments.length === 0) return value;
  // A path has a handful of segments; the bound keeps a hostile document from making this expensive.
  if (!isRecord(value) || depth > 16) return undefined;
  for (let take = segments.length; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (!Object.hasOwn(value, key)) continue;
    const found = lookup(value[key], segments.slice(take), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
