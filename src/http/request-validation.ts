import { applyDecorators, ValidationPipe } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { invalidRequest } from './app-error';

/** The keys Nest's ValidationPipe deletes from a request before validating it (`__proto__` never gets here: json-body.ts refuses it). */
const STRIPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Where the first such key sits in a parsed body or query ('severity_mapping.constructor'), or undefined. */
export function strippedKeyPath(value: unknown, path = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // Object.entries: own keys only, and it works on the null-prototype objects a query string is parsed into.
  for (const [key, child] of Object.entries(value)) {
    const at = path === '' ? key : Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (STRIPPED_KEYS.has(key)) return at;
    const found = strippedKeyPath(child, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The API's ValidationPipe. Nest deletes `constructor` and `prototype` keys wherever they occur before it
 * validates; deleted silently, `severity_mapping: {"constructor": "high"}` or an event's `data.prototype` would
 * be answered 201 and stored without them. Such a request is refused instead, naming the key.
 */
export class RequestValidationPipe extends ValidationPipe {
  protected override stripProtoKeys(value: unknown): void {
    const path = strippedKeyPath(value);
    if (path !== undefined) {
      const problem = `keys named constructor, prototype or __proto__ are not accepted (${path})`;
      throw invalidRequest(`Invalid request: ${problem}`, [{ field: path.split(/[.[]/)[0], problems: [problem] }]);
    }
    super.stripProtoKeys(value);
  }
}

/**
 * For a free-form JSON object of a request body (a mapping, headers, event data): the object as the client sent
 * it. class-transformer copies a nested plain object without every key that Object.prototype also has
 * (toString, valueOf, hasOwnProperty, …), so without this such a key would vanish silently instead of being
 * validated (and accepted, or refused) by the field's own rules. `Type(() => Object)` keeps class-transformer
 * from taking an own `constructor` key for the object's class on the way (it throws on that).
 */
export function AsSent(): PropertyDecorator {
  return applyDecorators(
    Type(() => Object),
    Transform(({ obj, key }) => (obj as Record<string, unknown>)[key], { toClassOnly: true }),
  );
}
