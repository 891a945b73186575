// Whole-process: control-path events (rules loaded or refused, breaker transitions, switch
// changes) are logged as JSON lines with an `event` field; an admitted request logs nothing by
// default; SLUICE_ACCESS_LOG_SAMPLE=1 logs one JSON line per request with what was decided.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SLUICE_BIN, startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

type LogLine = Record<string, unknown>;

const DEGRADE = `degrade:
  - { name: primary-errors, cluster: primary, kind: error_count, threshold: 3, window: 1s, min_requests: 1, open_for: 30s, action: failover }
`;

const ORDER = { 'x-caller-account': 'order-center' };

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** The first line after `from` whose event is `event` and that `match` accepts. */
function logged(sidecar: SidecarProcess, event: string, from = 0, match: (line: LogLine) => boolean = () => true): Promise<LogLine> {
  return waitFor(() => sidecar.logs.slice(from).find((line) => line.event === event && match(line)) ?? null, {
    timeoutMs: 5000,
    message: `a '${event}' log line`,
  });
}

describe('structured logs (whole process)', () => {
  let stack: Stack;
  let primary: FakeCluster;
  let dir: string;
  let sidecar: SidecarProcess;

  before(async () => {
    // The access log is off unless asked for, whatever the test runner's environment says.
    stack = await startStack((ports) => memberServiceRules(ports, DEGRADE), { prefix: 'sluice-logs-', env: { SLUICE_ACCESS_LOG_SAMPLE: '' } });
    ({ primary, dir, sidecar } = stack);
  });

  after(async () => {
    await stack?.close();
  });

  it('logs every line as pino JSON', () => {
    assert.ok(sidecar.logs.length >= 2);
    for (const line of sidecar.logs) {
      assert.equal(typeof line.level, 'number', `not a JSON log line: ${JSON.stringify(line)}`);
      assert.equal(typeof line.time, 'number');
      assert.equal(line.service, 'sluice');
      assert.equal(typeof line.msg, 'string');
    }
  });

  it('logs rules_loaded with the version and files at start', () => {
    const loaded = sidecar.logs.find((line) => line.event === 'rules_loaded');
    assert.ok(loaded, 'no rules_loaded line');
    assert.match(String(loaded.version), /^[0-9a-f]{12}$/);
    assert.deepEqual(loaded.files, [join(dir, 'rules.yaml')]);
  });

  it('logs nothing for admitted requests by default', async () => {
    const from = sidecar.logs.length;
    for (let i = 0; i < 20; i++) assert.equal(await get(`${sidecar.url}/members/${1000 + i}`, ORDER), 200);
    assert.equal(await get(`${sidecar.url}/members/1`), 401);
    // A control-path event after the requests (SIGHUP reloads the rules): once its lines are in,
    // any line about a request would be in too.
    sidecar.child.kill('SIGHUP');
    await logged(sidecar, 'rules_loaded', from);
    const between = sidecar.logs.slice(from).filter((line) => line.event !== 'sighup' && line.event !== 'rules_loaded');
    assert.deepEqual(between, [], 'lines logged for plain requests');
  });

  it('logs switch changes with the map and where they came from', async () => {
    const from = sidecar.logs.length;
    const set = await fetch(`${sidecar.adminUrl}/admin/switch`, { method: 'POST', body: '{"primary":"backup"}' });
    assert.equal(set.status, 200, await set.text());
    const line = await logged(sidecar, 'switch', from, (l) => JSON.stringify(l.switch) === '{"primary":"backup"}');
    assert.equal(line.source, 'admin');
    assert.equal(typeof line.instance, 'string');
    assert.equal(line.level, 40);
    const cleared = await fetch(`${sidecar.adminUrl}/admin/switch`, { method: 'DELETE' });
    assert.equal(cleared.status, 200);
    await cleared.arrayBuffer();
    await logged(sidecar, 'switch', from, (l) => JSON.stringify(l.switch) === '{}');
  });

  it('logs rules_refused with file:line:col problems, then rules_loaded when fixed', async () => {
    const from = sidecar.logs.length;
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'limits:\n  global: { rate: fast }\n');
    try {
      const refused = await logged(sidecar, 'rules_refused', from);
      assert.equal(refused.level, 50);
      assert.ok(Array.isArray(refused.errors) && refused.errors.length > 0);
      assert.match(String(refused.errors[0]), /broken\.yaml:\d+:\d+: /);
    } finally {
      await rm(broken, { force: true });
    }
    await logged(sidecar, 'rules_loaded', from);
  });

  it('logs breaker_transition when a failing cluster opens its breaker', async () => {
    const from = sidecar.logs.length;
    primary.status = 500;
    try {
      // Bounded: the breaker needs 3 errors within a 1 s window.
      const opened = await waitFor(
        async () => {
          await get(`${sidecar.url}/members/7`, ORDER);
          return sidecar.logs.slice(from).find((l) => l.event === 'breaker_transition' && l.to === 'open') ?? null;
        },
        { timeoutMs: 5000, message: 'the breaker to open' },
      );
      assert.equal(opened.breaker, 'primary-errors');
      assert.equal(opened.cluster, 'primary');
      assert.equal(opened.from, 'closed');
      assert.equal(typeof opened.why, 'string');
      assert.equal(opened.level, 40);
      // Open with failover: order traffic now reaches backup.
      const res = await fetch(`${sidecar.url}/members/7`, { headers: ORDER });
      assert.deepEqual(await res.json(), { cluster: 'backup', url: '/members/7' });
    } finally {
      primary.status = 200;
    }
  });
});

describe('sampled access log (whole process)', () => {
  let primary: FakeCluster;
  let marketing: FakeCluster;
  let dir: string;
  let sidecar: SidecarProcess;

  before(async () => {
    [primary, marketing] = await Promise.all([startFakeCluster('primary'), startFakeCluster('marketing')]);
    dir = await mkdtemp(join(tmpdir(), 'sluice-access-log-'));
    await writeFile(join(dir, 'rules.yaml'), memberServiceRules({ primary: primary.port, marketing: marketing.port, backup: primary.port }));
    sidecar = await startSidecar(dir, { env: { SLUICE_ACCESS_LOG_SAMPLE: '1' } });
  });

  after(async () => {
    await sidecar?.stop();
    await Promise.all([primary?.close(), marketing?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('logs an admitted request as one JSON line: account, class, cluster, method, path without query, status, times', async () => {
    const from = sidecar.logs.length;
    assert.equal(await get(`${sidecar.url}/members/42?fields=level`, { ...ORDER, 'x-request-id': 'req-42' }), 200);
    const line = await logged(sidecar, 'access', from);
    assert.equal(line.level, 30);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/members/42');
    assert.equal(line.account, 'order-center');
    assert.equal(line.class, 'order');
    assert.equal(line.cluster, 'primary');
    assert.equal(line.status, 200);
    assert.equal(line.reason, null);
    assert.equal(line.upstream_error, null);
    assert.equal(line.request_id, 'req-42');
    assert.equal(line.client, '127.0.0.1');
    assert.equal(typeof line.ms, 'number');
    assert.ok(typeof line.upstream_ms === 'number' && line.upstream_ms >= 0 && line.upstream_ms <= (line.ms as number));
    assert.equal(sidecar.logs.slice(from).filter((l) => l.event === 'access').length, 1);
  });

  it('logs a refused request with its reason and status', async () => {
    const from = sidecar.logs.length;
    assert.equal(await get(`${sidecar.url}/members/9`, { 'x-caller-account': 'nobody' }), 401);
    const line = await logged(sidecar, 'access', from);
    assert.equal(line.status, 401);
    assert.equal(line.reason, 'unknown_caller');
    assert.equal(line.account, 'unknown');
    assert.equal(line.cluster, 'none');
    assert.equal(line.upstream_ms, null);
    assert.equal(line.path, '/members/9');
  });

  it('logs every request at sample 1', async () => {
    const from = sidecar.logs.length;
    for (let i = 0; i < 10; i++) assert.equal(await get(`${sidecar.url}/members/${i}`, { 'x-caller-account': 'campaign' }), 200);
    await waitFor(() => sidecar.logs.slice(from).filter((l) => l.event === 'access').length === 10, {
      timeoutMs: 5000,
      message: '10 access lines',
    });
    const clusters = new Set(sidecar.logs.slice(from).map((l) => l.cluster));
    assert.deepEqual([...clusters], ['marketing']);
  });

  it('refuses to start with a sample outside 0..1: exit 1 and one line', async () => {
    const child = spawn(process.execPath, [SLUICE_BIN, 'start', '--rules', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], {
      env: { ...process.env, SLUICE_ACCESS_LOG_SAMPLE: '2' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 1);
    assert.equal(stderr, "sluice start: SLUICE_ACCESS_LOG_SAMPLE: expected a fraction between 0 and 1, got '2'\n");
  });
});
