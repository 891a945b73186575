// Whole-process: SIGTERM stops accepting new connections, lets in-flight requests finish, then exits 0.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { memberServiceRules, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('graceful drain on SIGTERM (whole process)', () => {
  let primary: FakeCluster;
  let other: FakeCluster;
  let dir: string;
  let sidecar: SidecarProcess;

  before(async () => {
    primary = await startFakeCluster('primary');
    other = await startFakeCluster('other');
    dir = await mkdtemp(join(tmpdir(), 'sluice-drain-'));
    await writeFile(join(dir, 'rules.yaml'), memberServiceRules({ primary: primary.port, marketing: other.port, backup: other.port }));
    sidecar = await startSidecar(dir);
  });

  after(async () => {
    await sidecar?.stop();
    await Promise.all([primary?.close(), other?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('finishes the requests in flight, refuses new connections, and exits 0', async () => {
    primary.delayMs = 600;
    const inFlight = Promise.all(
      [1, 2, 3].map(async (id) => {
        const res = await fetch(`${sidecar.url}/members/${id}`, { headers: { 'x-caller-account': 'order-center' } });
        return { status: res.status, body: (await res.json()) as { cluster: string } };
      }),
    );
    await waitFor(() => primary.received.length >= 3, { message: 'requests to reach the upstream' });
    const exit = sidecar.stop();
    await waitFor(() => sidecar.logs.some((line) => line.event === 'stopping'), { message: 'the drain to begin' });
    await assert.rejects(fetch(`${sidecar.url}/members/9`, { headers: { 'x-caller-account': 'order-center', connection: 'close' } }));
    const answers = await inFlight;
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.cluster, 'primary');
    }
    assert.equal(await exit, 0);
  });
});
