// Whole-process: `sluice start` that cannot start says why in one line and exits 1, with nothing
// left running (a taken port, invalid rules, a bad address).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SLUICE_BIN } from '../helpers/sidecar-process.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SLUICE_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

describe('sluice start refusing to start (whole process)', () => {
  let dir: string;
  let good: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-start-'));
    good = join(dir, 'good.yaml');
    await writeFile(good, memberServiceRules({ primary: 1, marketing: 2, backup: 3 }));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 with one line when the admin port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const result = await run(['start', '--rules', good, '--listen', '127.0.0.1:0', '--admin', `127.0.0.1:${port}`]);
      assert.equal(result.code, 1, 'the process exited by itself, with 1');
      assert.equal(result.stderr.trim().split('\n').length, 1);
      assert.match(result.stderr, /EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('exits 1 with one file:line:col line per problem when the rules are invalid', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, memberServiceRules({ primary: 1, marketing: 2, backup: 3 }, 'limits:\n  global: { rate: fast }\n'));
    const result = await run(['start', '--rules', bad, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^.*bad\.yaml:\d+:\d+: limits\.global\.rate: /m);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 1 on a listen address that is not HOST:PORT, and 2 on an unknown option', async () => {
    const badAddress = await run(['start', '--rules', good, '--listen', 'nowhere', '--admin', '127.0.0.1:0']);
    assert.equal(badAddress.code, 1);
    assert.match(badAddress.stderr, /listen address: expected HOST:PORT, got 'nowhere'/);
    const usage = await run(['start', '--rulez', good]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option --rulez/);
  });
});
