// `sluice drill` against a running sidecar's admin API, and the bearer token it sends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { drillCommand } from '../../src/cli/drill.ts';
import type { CommandOutput } from '../../src/cli/validate.ts';
import { startHttpServer } from '../helpers/servers.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

function capture(): CommandOutput & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (line) => out_.push(line), err: (line) => err_.push(line) };
}

describe('sluice drill', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack((ports) => memberServiceRules(ports), { prefix: 'sluice-drill-cli-' });
  });
  after(async () => {
    await stack?.close();
  });

  it('starts, lists and stops an admin drill on a running sidecar', async () => {
    const admin = `127.0.0.1:${stack.sidecar.adminPort}`;
    const env = { SLUICE_ADMIN_TOKEN: 'secret' };
    const started = capture();
    const code = await drillCommand(['start', '--name', 'cli-drill', '--ttl', '2m', '--cluster', 'primary', '--abort', '503', '--abort-percent', '100', '--admin', admin], started, env);
    assert.equal(code, 0, started.err_.join('\n'));
    assert.match(started.out_[0], /^drill cli-drill started, ends \d{4}-/);

    const answer = await fetch(`${stack.sidecar.url}/members/1`, { headers: { 'x-caller-account': 'order-center' } });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get('x-sluice-reason'), 'fault_injected');

    const listed = capture();
    assert.equal(await drillCommand(['list', '--admin', admin], listed, env), 0);
    assert.equal(listed.out_.length, 1);
    assert.match(listed.out_[0], /^cli-drill {2}admin {2}abort 503@100% {2}cluster=primary {2}1[12][0-9]s left$/);

    const stopped = capture();
    assert.equal(await drillCommand(['stop', 'cli-drill', '--admin', admin], stopped, env), 0);
    assert.deepEqual(stopped.out_, ['drill cli-drill stopped']);
    assert.equal((await fetch(`${stack.sidecar.url}/members/1`, { headers: { 'x-caller-account': 'order-center' } })).status, 200);

    const again = capture();
    assert.equal(await drillCommand(['stop', 'cli-drill', '--admin', admin], again, env), 1);
    assert.match(again.err_[0], /no running admin drill 'cli-drill'/);
  });

  it('refuses a drill without ttl (usage, exit 2) and reports the sidecar\'s refusal (exit 1)', async () => {
    const admin = `127.0.0.1:${stack.sidecar.adminPort}`;
    const usage = capture();
    assert.equal(await drillCommand(['start', '--name', 'x', '--delay', '1s', '--admin', admin], usage, {}), 2);
    assert.match(usage.err_[0], /--ttl is required/);
    const refused = capture();
    assert.equal(await drillCommand(['start', '--name', 'x', '--delay', '1s', '--ttl', '1m', '--cluster', 'nowhere', '--admin', admin], refused, {}), 1);
    assert.match(refused.err_[0], /unknown cluster 'nowhere'/);
  });

  it('sends the admin token from the environment as a bearer token', async () => {
    const seen: (string | undefined)[] = [];
    const fake = await startHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"faults":[]}');
    });
    try {
      const out = capture();
      assert.equal(await drillCommand(['list', '--admin', `127.0.0.1:${fake.port}`, '--token-env', 'MY_TOKEN'], out, { MY_TOKEN: 't0k3n' }), 0);
      assert.deepEqual(seen, ['Bearer t0k3n']);
      assert.deepEqual(out.out_, ['no drills']);
    } finally {
      await fake.close();
    }
  });
});
