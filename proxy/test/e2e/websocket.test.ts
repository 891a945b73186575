// Whole-process: WebSocket upgrades pass through to the caller class's cluster under the same
// caller checks as plain requests: unknown callers and wrong keys are refused before anything
// reaches an upstream; a registered caller gets the upstream's 101 and bytes flow both ways.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metricsText, metricValue } from '../helpers/admin.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { clusterSections } from '../helpers/upstreams.ts';
import { startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  acceptKey,
  maskedTextFrame,
  readBytes,
  readToClose,
  startEchoWebSocketServer,
  textFrame,
  wsHandshake,
  type EchoWebSocketServer,
} from '../helpers/websocket-peers.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('WebSocket pass-through under the caller checks (whole process)', () => {
  let primary: EchoWebSocketServer;
  let marketing: EchoWebSocketServer;
  let backup: FakeCluster;
  let dir: string;
  let sidecar: SidecarProcess;
  const clientSockets: { destroy(): void }[] = [];

  before(async () => {
    [primary, marketing, backup] = await Promise.all([
      startEchoWebSocketServer('primary'),
      startEchoWebSocketServer('marketing'),
      startFakeCluster('backup'),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'sluice-ws-'));
    await writeFile(
      join(dir, 'rules.yaml'),
      `${clusterSections({ primary: primary.port, marketing: marketing.port, backup: backup.port })}callers:
  auth: key
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Live member updates, class: order, key_sha256: ${sha256('order-secret')} }
    - { id: campaign, owner: Chen Jing, team: growth-marketing, scenario: Live campaign feed, class: marketing, key_sha256: ${sha256('campaign-secret')} }
`,
    );
    sidecar = await startSidecar(dir);
  });

  after(async () => {
    for (const socket of clientSockets) socket.destroy();
    await sidecar?.stop();
    await Promise.all([primary?.close(), marketing?.close(), backup?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  for (const [what, headers, reason] of [
    ['no account', {}, 'unknown_caller'],
    ['an unregistered account', { 'x-caller-account': 'nobody', 'x-caller-key': 'order-secret' }, 'unknown_caller'],
    ['a wrong key', { 'x-caller-account': 'order-center', 'x-caller-key': 'campaign-secret' }, 'bad_key'],
  ] as const) {
    it(`refuses an upgrade with ${what}: 401 ${reason}, nothing reaches an upstream`, async () => {
      const answer = await wsHandshake(sidecar.port, '/live/members', KEY, headers);
      clientSockets.push(answer.socket);
      assert.equal(answer.status, 401);
      assert.match(answer.head, new RegExp(`\\r\\nx-sluice-reason: ${reason}\\r\\n`, 'i'));
      const body = JSON.parse((await readToClose(answer.socket, answer.rest)).toString('utf8')) as { reason: string };
      assert.equal(body.reason, reason);
      assert.equal(primary.upgrades.length + marketing.upgrades.length, 0);
    });
  }

  it('passes a registered caller through to its class cluster: 101, and bytes flow both ways', async () => {
    const answer = await wsHandshake(sidecar.port, '/live/members?since=7', KEY, {
      'x-caller-account': 'order-center',
      'x-caller-key': 'order-secret',
      'x-request-id': 'ws-order-1',
    });
    clientSockets.push(answer.socket);
    assert.equal(answer.status, 101, answer.head);
    assert.match(answer.head, new RegExp(`\\r\\nsec-websocket-accept: ${acceptKey(KEY).replace(/[+/=]/g, '\\$&')}`, 'i'));

    // Upstream → client: the greeting frame.
    const greeting = textFrame('hello from primary');
    assert.deepEqual(await readBytes(answer.socket, greeting.length, answer.rest), greeting);
    // Client → upstream → client: a masked frame, echoed byte for byte.
    const frame = maskedTextFrame('member 7 points changed');
    answer.socket.write(frame);
    assert.deepEqual(await readBytes(answer.socket, frame.length), frame);

    assert.equal(primary.upgrades.length, 1);
    assert.equal(marketing.upgrades.length, 0);
    const upgrade = primary.upgrades[0];
    assert.equal(upgrade.url, '/live/members?since=7');
    assert.equal(upgrade.headers['x-request-id'], 'ws-order-1');
    assert.equal(upgrade.headers['x-forwarded-for'], '127.0.0.1');

    // Closing the client closes the upstream side too.
    answer.socket.destroy();
    await waitFor(() => primary.open.size === 0, { message: 'the upstream side to close' });
  });

  it('sends a marketing caller to the marketing cluster, never to primary', async () => {
    const before = primary.upgrades.length;
    const answer = await wsHandshake(sidecar.port, '/live/campaign', KEY, { 'x-caller-account': 'campaign', 'x-caller-key': 'campaign-secret' });
    clientSockets.push(answer.socket);
    assert.equal(answer.status, 101, answer.head);
    const greeting = textFrame('hello from marketing');
    assert.deepEqual(await readBytes(answer.socket, greeting.length, answer.rest), greeting);
    const frame = maskedTextFrame('campaign tick');
    answer.socket.write(frame);
    assert.deepEqual(await readBytes(answer.socket, frame.length), frame);
    assert.equal(marketing.upgrades.length, 1);
    assert.equal(primary.upgrades.length, before);
    answer.socket.destroy();

    const metrics = await metricsText(sidecar);
    assert.equal(metricValue(metrics, 'sluice_requests_total', { account: 'campaign', cluster: 'marketing', code: '101' }), 1);
    assert.equal(metricValue(metrics, 'sluice_rejections_total', { account: 'order-center', reason: 'bad_key' }), 1);
    // A refused upgrade is an answer like any other: counted with its status. The two callers
    // without a registered account count as 'unknown'; the wrong key under the account it claimed.
    assert.equal(metricValue(metrics, 'sluice_requests_total', { account: 'unknown', cluster: 'none', code: '401' }), 2);
    assert.equal(metricValue(metrics, 'sluice_requests_total', { account: 'order-center', cluster: 'none', code: '401' }), 1);
  });
});
