// Whole-process: every way the rules can change (in-place write, rename over, Kubernetes
// ConfigMap `..data` symlink swap, SIGHUP) takes effect within 1 s while a steady load runs, and
// not one request fails; invalid new rules are refused whole and the old ones stay in force.
// The load comes from 16 keep-alive connections of an account with a quota far above it (and
// the default burst): neither a reload nor arrivals bunched on 16 connections refuse one.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { memberServiceRules, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Keep-alive connections of the steady load. */
const CONNECTIONS = 16;

/** An account whose quota is far above the load: any 429 would be a wrong refusal. */
const QUOTA_ACCOUNT =
  '    - { id: steady, owner: Li Wei, team: order-platform, scenario: Member profile at checkout, class: order, quota: 100000/s }\n';

/** Steady load from concurrent callers; bounded by `stop()` and a hard time limit. */
function steadyLoad(url: string, limitMs: number) {
  const pool = new Pool(url, { connections: CONNECTIONS });
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let sent = 0;
  let running = true;
  const deadline = Date.now() + limitMs;
  const worker = async (): Promise<void> => {
    while (running && Date.now() < deadline) {
      sent++;
      try {
        const res = await pool.request({ path: '/members/1', method: 'GET', headers: { 'x-caller-account': 'steady' } });
        const text = await res.body.text();
        if (res.statusCode !== 200) failures.push(`${res.statusCode} ${text}`);
        else {
          const cluster = (JSON.parse(text) as { cluster: string }).cluster;
          seen.set(cluster, (seen.get(cluster) ?? 0) + 1);
          last = cluster;
        }
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  let last = '';
  const startedAt = performance.now();
  const workers = Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return {
    seen,
    failures,
    get sent() {
      return sent;
    },
    get last() {
      return last;
    },
    /** Requests per second since the start. */
    rate() {
      return Math.round((sent * 1000) / (performance.now() - startedAt));
    },
    async stop() {
      if (!running) return;
      running = false;
      await workers;
      await pool.close();
    },
  };
}

describe('hot reload under continuous load (whole process)', () => {
  const clusters: FakeCluster[] = [];
  let dir: string;
  let sidecar: SidecarProcess;
  let load: ReturnType<typeof steadyLoad>;

  /** Rules whose primary cluster is the fake cluster `index`. */
  const rulesFor = (index: number, extra = ''): string =>
    memberServiceRules({ primary: clusters[index].port, marketing: clusters[4].port, backup: clusters[4].port }, QUOTA_ACCOUNT + extra);

  /** Waits until answers come from cluster `name`; answers how long that took. */
  const switchedTo = async (name: string, since: number): Promise<number> => {
    await waitFor(() => load.last === name, { timeoutMs: 3000, message: `answers from ${name}` });
    return performance.now() - since;
  };

  before(async () => {
    for (const name of ['p0', 'p1', 'p2', 'p3', 'other']) clusters.push(await startFakeCluster(name));
    dir = await mkdtemp(join(tmpdir(), 'sluice-reload-'));
    // The ConfigMap layout: files are symlinks into `..data`, itself a symlink to a dated directory.
    await mkdir(join(dir, '..v0'));
    await writeFile(join(dir, '..v0', 'rules.yaml'), rulesFor(0));
    await symlink('..v0', join(dir, '..data'));
    await symlink(join('..data', 'rules.yaml'), join(dir, 'rules.yaml'));
    sidecar = await startSidecar(dir);
    load = steadyLoad(sidecar.url, 60_000);
    await waitFor(() => load.last === 'p0', { message: 'first answers' });
  });

  after(async () => {
    await load?.stop();
    await sidecar?.stop();
    await Promise.all(clusters.map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a ConfigMap ..data symlink swap within 1 s', async () => {
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'rules.yaml'), rulesFor(1));
    await symlink('..v1', join(dir, '..data_tmp'));
    const since = performance.now();
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    const took = await switchedTo('p1', since);
    assert.ok(took < 1000, `took ${took.toFixed(0)} ms`);
  });

  it('applies a rename over the file within 1 s', async () => {
    // Replace the symlink by a plain file, the way editors and config tools save.
    await writeFile(join(dir, 'rules.yaml.tmp'), rulesFor(2));
    const since = performance.now();
    await rename(join(dir, 'rules.yaml.tmp'), join(dir, 'rules.yaml'));
    const took = await switchedTo('p2', since);
    assert.ok(took < 1000, `took ${took.toFixed(0)} ms`);
  });

  it('applies an in-place write within 1 s', async () => {
    const since = performance.now();
    await writeFile(join(dir, 'rules.yaml'), rulesFor(3));
    const took = await switchedTo('p3', since);
    assert.ok(took < 1000, `took ${took.toFixed(0)} ms`);
  });

  it('reloads on SIGHUP within 1 s even when nothing changed', async () => {
    const reloads = async (): Promise<number> => {
      const text = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
      return Number(/sluice_rules_reloads_total\{result="success"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await reloads();
    const since = performance.now();
    sidecar.child.kill('SIGHUP');
    await waitFor(async () => (await reloads()) > before, { timeoutMs: 3000, message: 'a reload after SIGHUP' });
    assert.ok(performance.now() - since < 1000);
  });

  it('refuses invalid new rules whole, keeps the old ones and shows file:line at /admin/rules', async () => {
    const versionBefore = ((await (await fetch(`${sidecar.adminUrl}/admin/rules`)).json()) as { version: string }).version;
    // A valid-looking change (primary → p0) together with a typo: nothing of it may apply.
    await writeFile(join(dir, 'rules.yaml'), rulesFor(0, 'limits:\n  global: { rate: 100/s, scoep: fleet }\n'));
    const status = await waitFor(
      async () => {
        const body = (await (await fetch(`${sidecar.adminUrl}/admin/rules`)).json()) as {
          version: string;
          last_error: { errors: string[] } | null;
        };
        return body.last_error === null ? null : body;
      },
      { timeoutMs: 3000, message: 'the refusal at /admin/rules' },
    );
    assert.equal(status.version, versionBefore);
    assert.match(status.last_error?.errors.join('\n') ?? '', /rules\.yaml:\d+:\d+: .*scoep/);
    const res = await fetch(`${sidecar.url}/members/5`, { headers: { 'x-caller-account': 'order-center' } });
    assert.equal(((await res.json()) as { cluster: string }).cluster, 'p3');
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    assert.match(metrics, /sluice_rules_reloads_total\{result="failure"\} [1-9]/);
  });

  it('lost not one request while all of that happened', async () => {
    const rate = load.rate();
    await load.stop();
    process.stdout.write(
      `# reload under load: ${JSON.stringify({ connections: CONNECTIONS, sent: load.sent, requestsPerSecond: rate, failed: load.failures.length, byCluster: Object.fromEntries(load.seen) })}\n`,
    );
    assert.deepEqual(load.failures, []);
    assert.ok(load.sent > 100, `only ${load.sent} requests sent`);
    for (const name of ['p0', 'p1', 'p2', 'p3']) assert.ok((load.seen.get(name) ?? 0) > 0, `no answers from ${name}`);
  });
});
