// Validates the merged document against the JSON Schema and turns ajv's errors into problems an
// operator can act on, each placed at the key or value it is about.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Origins } from './origins.ts';
import type { KeyPath, Problem } from './problems.ts';
import { NAME_PATTERN, PATTERN_MESSAGES, RULES_SCHEMA } from './schema.ts';

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(RULES_SCHEMA);
  return compiled;
}

export function checkSchema(value: unknown, origins: Origins): Problem[] {
  const validate = validator();
  if (validate(value)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const found = explain(error, value);
    if (found === null) continue;
    const id = JSON.stringify([found.path, found.message]);
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(origins.problem(found.path, found.message, found.atKey));
  }
  return problems;
}

interface Explained {
  readonly path: KeyPath;
  readonly message: string;
  /** Point at the key rather than its value. */
  readonly atKey: boolean;
}

function explain(error: ErrorObject, root: unknown): Explained | null {
  const path = toKeyPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;

  if (propertyName !== undefined) {
    if (error.keyword !== 'pattern') return null;
    const what =
      params.pattern === NAME_PATTERN ? 'a letter, then letters, digits, - or _' : `matching ${String(params.pattern)}`;
    const message = `'${propertyName}' is not a valid name: must be ${what}`;
    return { path: [...path, propertyName], message, atKey: true };
  }
  switch (error.keyword) {
    case 'if':
    case 'propertyNames':
      return null; // the errors of the branch taken, or of the name itself, say it better
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as object);
      return { path: [...path, key], message: `unknown key '${key}'${suggest(key, allowed)}`, atKey: true };
    }
    case 'required':
      return { path, message: `missing required key '${String(params.missingProperty)}'`, atKey: true };
    case 'type':
    case 'pattern': {
      const pattern = typeof parent.pattern === 'string' ? parent.pattern : undefined;
      const known = pattern === undefined ? undefined : PATTERN_MESSAGES[pattern];
      if (known !== undefined) return { path, message: known, atKey: false };
      if (error.keyword === 'pattern') return { path, message: `must match ${String(params.pattern)}`, atKey: false };
      return { path, message: typeMessage(params.type), atKey: false };
    }
    case 'enum': {
      const values = (params.allowedValues as unknown[]).map(String);
      return { path, message: `must be one of ${values.join(', ')} (got ${show(error.data)})`, atKey: false };
    }
    case 'const':
      return { path, message: `must be ${show(params.allowedValue)} (got ${show(error.data)})`, atKey: false };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(params.comparison)} ${String(params.limit)}`, atKey: false };
    case 'minItems':
    case 'minLength':
      return { path, message: 'must not be empty', atKey: false };
    default:
      return { path, message: error.message ?? 'is not valid', atKey: false };
  }
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
};

function typeMessage(type: unknown): string {
  const types = (Array.isArray(type) ? type : String(type).split(',')).map(String).filter((t) => t !== 'null');
  return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** JSON pointer → key path, with list indexes as numbers (decided by the data, not the text). */
function toKeyPath(pointer: string, root: unknown): KeyPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** ` (did you mean 'timeout'?)` for a near miss, else the keys allowed here. */
function suggest(key: string, allowed: readonly string[]): string {
  if (allowed.length === 0) return '';
  let best = '';
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= Math.max(1, Math.floor(best.length / 3))) return ` (did you mean '${best}'?)`;
  return ` (allowed: ${allowed.join(', ')})`;
}

function editDistance(a: string, b: string): number {
  let twoBack: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      // Swapped neighbours ('tiemout') count as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], twoBack[j - 2] + 1);
      }
    }
    twoBack = previous;
    previous = current;
  }
  return previous[b.length];
}
