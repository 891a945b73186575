// Parses the JSON posted to /admin/faults: one fault entry as in the rules files, with a required
// `ttl` instead of `until`. Checked against the same schema keys, then against the rules in force.
import { Ajv, type ValidateFunction } from 'ajv';
import { normalizeFault, type RawFault } from '../rules/normalize.ts';
import { FAULT_PROPERTIES, PATTERN_MESSAGES } from '../rules/schema.ts';
import type { FaultRules, Rules } from '../rules/types.ts';
import { DURATION_PATTERN, parseDuration } from '../rules/units.ts';

const POSTED_FAULT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'ttl'],
  properties: {
    ...FAULT_PROPERTIES,
    ttl: { type: 'string', pattern: DURATION_PATTERN, description: 'How long the drill runs.' },
  },
} as const;

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(POSTED_FAULT_SCHEMA);
  return compiled;
}

const EXAMPLE = '{"name":"primary-slow","cluster":"primary","delay":"300ms","ttl":"5m"}';

/** The drill, ending `ttl` from `now`, or one line saying what is wrong. */
export function parsePostedFault(body: string, rules: Rules, now = Date.now()): FaultRules | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `body must be JSON like ${EXAMPLE}`;
  }
  const validate = validator();
  if (!validate(parsed)) {
    const error = validate.errors?.[0];
    if (error === undefined) return 'invalid fault';
    const at = error.instancePath === '' ? 'fault' : `fault${error.instancePath.replaceAll('/', '.')}`;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') return `${at}: unknown key '${String(params.additionalProperty)}'`;
    if (error.keyword === 'required') return `${at}: missing required key '${String(params.missingProperty)}'`;
    if (error.keyword === 'pattern') return `${at}: ${PATTERN_MESSAGES[String(params.pattern)] ?? error.message ?? 'invalid'}`;
    return `${at}: ${error.message ?? 'invalid'}`;
  }
  const raw = parsed as RawFault & { ttl: string };
  if (raw.delay === undefined && raw.abort === undefined) return 'fault: needs delay or abort (or both)';
  if (raw.cluster !== undefined && !rules.clusters.has(raw.cluster)) return `fault.cluster: unknown cluster '${raw.cluster}'`;
  if (raw.class !== undefined && !rules.classes.some((c) => c.name === raw.class)) return `fault.class: unknown class '${raw.class}'`;
  if (rules.faults.some((f) => f.name === raw.name)) return `fault.name: '${raw.name}' is a drill of the rules files`;
  const ttl = parseDuration(raw.ttl);
  if (ttl === null || ttl <= 0) return 'fault.ttl: must be a positive duration like 5m';
  return normalizeFault(raw, now + ttl);
}
