import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { nextRequestId } from '../../src/upstream/request-id.ts';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('created x-request-id', () => {
  it('is a version-8 UUID, different for every request', () => {
    const ids = Array.from({ length: 10_000 }, () => nextRequestId());
    for (const id of ids.slice(0, 50)) assert.match(id, UUID_V8);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('differs between processes (a random prefix per process)', () => {
    const module = new URL('../../src/upstream/request-id.ts', import.meta.url).href;
    const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(m.nextRequestId()))`;
    const run = (): string => execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const [a, b] = [run(), run()];
    assert.match(a, UUID_V8);
    assert.notEqual(a.slice(0, 23), b.slice(0, 23));
  });
});
