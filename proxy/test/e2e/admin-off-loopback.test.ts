// Whole-process: a sidecar whose admin port is bound off loopback (as in a pod, where kubelet
// probes and Prometheus come from outside) answers the probes without the token and keeps
// everything else behind it; `server.metrics_public: true` opens /metrics alone.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

const TOKEN = 'probe-test-token';
const PORTS = { primary: 1, marketing: 2, backup: 3 };

async function status(sidecar: SidecarProcess, path: string, token?: string): Promise<number> {
  // Connected through loopback: what decides is the address the admin port is bound to.
  const res = await fetch(`${sidecar.adminUrl}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

describe('admin port bound to 0.0.0.0 with a token (whole process)', () => {
  let dir: string;
  let closed: SidecarProcess;
  let publicMetrics: SidecarProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-admin-'));
    await writeFile(join(dir, 'closed.yaml'), `server: { admin_token_env: SLUICE_ADMIN_TOKEN }\n${memberServiceRules(PORTS)}`);
    await writeFile(join(dir, 'public.yaml'), `server: { admin_token_env: SLUICE_ADMIN_TOKEN, metrics_public: true }\n${memberServiceRules(PORTS)}`);
    const env = { SLUICE_ADMIN_TOKEN: TOKEN };
    [closed, publicMetrics] = await Promise.all([
      startSidecar(join(dir, 'closed.yaml'), { admin: '0.0.0.0:0', env }),
      startSidecar(join(dir, 'public.yaml'), { admin: '0.0.0.0:0', env }),
    ]);
  });

  after(async () => {
    await Promise.all([closed?.stop(), publicMetrics?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('is bound off loopback', () => {
    const started = closed.logs.find((line) => line.event === 'started');
    assert.match(String(started?.admin), /^0\.0\.0\.0:\d+$/);
  });

  it('answers /healthz and /readyz 200 without the token', async () => {
    assert.equal(await status(closed, '/healthz'), 200);
    assert.equal(await status(closed, '/readyz'), 200);
  });

  it('answers /metrics and the admin views 401 without the token, 200 with it', async () => {
    for (const path of ['/metrics', '/admin/rules', '/admin/accounts', '/admin/breakers']) {
      assert.equal(await status(closed, path), 401, `${path} without the token`);
      assert.equal(await status(closed, path, 'wrong'), 401, `${path} with a wrong token`);
      assert.equal(await status(closed, path, TOKEN), 200, `${path} with the token`);
    }
  });

  it('with metrics_public: true answers /metrics without the token, the admin views still not', async () => {
    assert.equal(await status(publicMetrics, '/metrics'), 200);
    assert.equal(await status(publicMetrics, '/readyz'), 200);
    assert.equal(await status(publicMetrics, '/admin/rules'), 401);
    assert.equal(await status(publicMetrics, '/admin/rules', TOKEN), 200);
  });
});
