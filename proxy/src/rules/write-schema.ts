// Writes rules/schema.json from schema.ts (npm run schema). A test keeps the two identical.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { schemaJson } from './schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../../rules/schema.json', import.meta.url));

if (import.meta.main) {
  await writeFile(SCHEMA_FILE, schemaJson());
  console.log(`wrote ${SCHEMA_FILE}`);
}
