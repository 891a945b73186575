// rules/schema.json is generated from schema.ts (npm run schema); they must never drift.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { RULES_SCHEMA, schemaJson } from '../../src/rules/schema.ts';
import { SCHEMA_FILE } from '../../src/rules/write-schema.ts';

test('rules/schema.json equals the schema the loader uses (run `npm run schema` after changing it)', async () => {
  assert.equal(await readFile(SCHEMA_FILE, 'utf8'), schemaJson());
});

test('every object in the schema rejects unknown keys and every property is described', () => {
  const visit = (node: unknown, where: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const schema = node as Record<string, unknown>;
    const types = ([] as unknown[]).concat(schema.type ?? []);
    if (types.includes('object') && schema.properties !== undefined && !where.includes('/if') && !where.includes('/then')) {
      assert.equal(schema.additionalProperties, false, `${where} must reject unknown keys`);
      for (const [key, property] of Object.entries(schema.properties as Record<string, Record<string, unknown>>)) {
        assert.equal(typeof property.description, 'string', `${where}/${key} needs a description`);
      }
    }
    for (const [key, child] of Object.entries(schema)) visit(child, `${where}/${key}`);
  };
  visit(RULES_SCHEMA, '#');
});
