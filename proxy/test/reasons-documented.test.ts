// Every rejection reason sluice can answer is documented in README's Answers table with its status.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { REASONS } from '../src/reasons.ts';

test('every rejection reason appears in README with its status', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const [reason, spec] of Object.entries(REASONS)) {
    const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${reason}\``));
    assert.ok(row, `README's Answers table lacks ${reason}`);
    assert.match(row, new RegExp(`\\| ${spec.status} \\|`), `README gives ${reason} another status than ${spec.status}`);
  }
});
