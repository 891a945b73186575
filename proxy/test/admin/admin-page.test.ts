// The admin page (SPEC §14) in a real headless Chromium against a running sidecar: it shows the
// accounts (with live usage and ledger flags) and breakers of the rules in force, says "not
// configured" for a section whose endpoint is absent, loads nothing from elsewhere, posts a
// switch, and off loopback works only with the admin token the operator types.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_PAGE_HTML } from '../../src/admin/page.ts';
import { Sidecar } from '../../src/sidecar.ts';
import { adminJson } from '../helpers/admin.ts';
import { driveLedgerTraffic, ledgerRules } from '../helpers/ledger-scenario.ts';
import { startHttpServer, type TestServer } from '../helpers/servers.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CHROMIUM = '/usr/bin/chromium';
const EXTRA = `degrade:
  - { name: primary-slow, cluster: primary, kind: rt, threshold: 200ms, window: 1s, min_requests: 20, open_for: 10s, action: failover }
  - { name: primary-errors, cluster: primary, kind: error_ratio, threshold: 0.5, window: 1s, min_requests: 20, open_for: 10s, action: failover }
limits:
  hot_keys:
    - { name: member-id, key: "path:/members/{id}", rate: 500/s }
`;

async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** The text of a section once it has rendered (data-state set). */
async function sectionText(page: Page, id: string): Promise<{ state: string; text: string }> {
  await page.waitForSelector(`section#${id}[data-state]`, { timeout: 10_000 });
  const section = page.locator(`section#${id}`);
  return { state: (await section.getAttribute('data-state')) ?? '', text: await section.innerText() };
}

describe('admin page in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await startStack((ports) => ledgerRules(ports) + EXTRA, { prefix: 'sluice-page-' });
    await driveLedgerTraffic([stack.sidecar.url]);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the accounts with usage and flags, the breakers, and the sections not configured; loads nothing from elsewhere', async () => {
    // The ledger takes a second to hold the traffic.
    await waitFor(
      async () => {
        const v = await adminJson<{ accounts: { id: string; ledger: { identities: number } }[] }>(stack.sidecar, '/admin/accounts');
        return v.accounts.find((a) => a.id === 'shared-acct')?.ledger.identities === 2;
      },
      { timeoutMs: 5000, message: 'the ledger to see both apps' },
    );
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(stack.sidecar.adminUrl)) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${stack.sidecar.adminUrl}/`);

    const accounts = await sectionText(page, 'accounts');
    console.log(`accounts section (${accounts.state}):\n${accounts.text}`);
    assert.equal(accounts.state, 'ok');
    for (const id of ['shared-acct', 'idle-acct', 'steady-acct']) assert.ok(accounts.text.includes(id), id);
    const sharedRow = await page.locator('section#accounts tbody tr').first().innerText();
    assert.match(sharedRow, /shared-acct/);
    assert.match(sharedRow, /2 \(/);
    assert.match(sharedRow, /shared/);
    assert.match(sharedRow, /off-scenario/);
    const flags = await page.locator('section#accounts .flag').allInnerTexts();
    assert.ok(flags.includes('unused'), flags.join(','));

    const breakers = await sectionText(page, 'breakers');
    console.log(`breakers section:\n${breakers.text}`);
    for (const name of ['primary-slow', 'primary-errors']) assert.ok(breakers.text.includes(name), name);
    assert.match(breakers.text, /closed/);

    const hotkeys = await sectionText(page, 'hotkeys');
    assert.match(hotkeys.text, /member-id/);
    const unregistered = await sectionText(page, 'unregistered');
    assert.match(unregistered.text, /ghost-app/);

    // Sections whose endpoints this sidecar may not have: "not configured", never an error.
    for (const id of ['clusters', 'adaptive', 'faults', 'mirrors']) {
      const s = await sectionText(page, id);
      console.log(`${id}: ${s.state}`);
      assert.ok(s.state === 'ok' || s.state === 'not-configured', `${id}: ${s.state} ${s.text}`);
      if (s.state === 'not-configured') assert.match(s.text, /not configured/);
      if (id === 'faults') assert.equal(await page.locator('#fault-form').isVisible(), s.state === 'ok', 'the drill form only with /admin/faults');
    }
    const rulesMeta = await page.textContent('#rules-meta');
    assert.match(rulesMeta ?? '', /rules [0-9a-f]{12} loaded/);
    assert.deepEqual(foreign, [], 'no request leaves the admin origin');
    assert.deepEqual(errors, []);

    // It refreshes by itself: new traffic shows without a reload.
    const before = (await page.getAttribute('body', 'data-refreshed')) ?? '';
    await page.waitForSelector(`body[data-refreshed]:not([data-refreshed="${before}"])`, { timeout: 5000 });

    const shot = join(tmpdir(), 'sluice-admin-page.png');
    const png = await page.screenshot({ path: shot, fullPage: true });
    const blank = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const empty = await blank.screenshot();
    console.log(`screenshot ${shot}: ${png.length} bytes (a blank page: ${empty.length} bytes)`);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(png.length > 10 * empty.length && png.length > 40_000, `${png.length} bytes`);
    assert.ok((await stat(shot)).size === png.length);
    await blank.close();
    await page.close();
  });

  it('starts a drill from the form on the running sidecar, and ends it', async (t) => {
    const page = await browser.newPage();
    await page.goto(`${stack.sidecar.adminUrl}/`);
    const faults = await sectionText(page, 'faults');
    if (faults.state !== 'ok') {
      t.skip('this sidecar has no /admin/faults');
      await page.close();
      return;
    }
    await page.fill('#fault-form input[name=name]', 'page-drill');
    await page.fill('#fault-form input[name=cluster]', 'primary');
    await page.fill('#fault-form input[name=delay]', '300ms');
    await page.fill('#fault-form input[name=delay_percent]', '50');
    await page.fill('#fault-form input[name=ttl]', '5m');
    await page.click('#fault-form button[type=submit]');
    await page.waitForSelector('#fault-msg:text-is("drill started")', { timeout: 5000 });
    interface Drills {
      faults: { name: string; origin: string }[];
    }
    assert.deepEqual((await adminJson<Drills>(stack.sidecar, '/admin/faults')).faults.map((f) => [f.name, f.origin]), [['page-drill', 'admin']]);
    await page.waitForSelector('section#faults:has-text("page-drill")', { timeout: 5000 });
    await page.click('section#faults button:text-is("End")');
    await page.waitForSelector('#fault-msg:text-is("drill ended")', { timeout: 5000 });
    assert.deepEqual((await adminJson<Drills>(stack.sidecar, '/admin/faults')).faults, []);
    console.log('drill page-drill started and ended from the page');
    await page.close();
  });

  it('posts a switch from the form and clears it', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.sidecar.adminUrl}/`);
    await page.fill('#switch-form input[name=from]', 'primary');
    await page.fill('#switch-form input[name=to]', 'backup');
    await page.click('#switch-form button[type=submit]');
    await page.waitForSelector('#switch-msg:text-is("switched")', { timeout: 5000 });
    const rules = await adminJson<{ switch: { current: Record<string, string> } }>(stack.sidecar, '/admin/rules');
    assert.deepEqual(rules.switch.current, { primary: 'backup' });
    await page.waitForSelector('section#switch:has-text("re-pointed to")', { timeout: 5000 });
    await page.click('#switch-clear');
    await page.waitForSelector('#switch-msg:text-is("cleared")', { timeout: 5000 });
    assert.deepEqual((await adminJson<{ switch: { current: Record<string, string> } }>(stack.sidecar, '/admin/rules')).switch.current, {});
    await page.close();
  });
});

describe('admin page off loopback', () => {
  let dir: string;
  let clusters: FakeCluster[];
  let sidecar: Sidecar;
  let browser: Browser;
  const TOKEN = 'page-test-token-31337';

  before(async () => {
    clusters = await Promise.all(['primary', 'marketing', 'backup'].map((n) => startFakeCluster(n)));
    dir = await mkdtemp(join(tmpdir(), 'sluice-page-token-'));
    const [primary, marketing, backup] = clusters;
    await writeFile(join(dir, 'rules.yaml'), ledgerRules({ primary: primary.port, marketing: marketing.port, backup: backup.port }) + EXTRA);
    process.env.SLUICE_PAGE_TEST_TOKEN = TOKEN;
    await writeFile(join(dir, 'server.yaml'), 'server: { admin_token_env: SLUICE_PAGE_TEST_TOKEN }\n');
    sidecar = await Sidecar.start({ rules: dir, listen: '127.0.0.1:0', admin: '0.0.0.0:0', log: pino({ level: 'silent' }) });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sidecar?.stop(1000);
    await Promise.all((clusters ?? []).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for the token, then shows the data and changes state with it', async () => {
    const url = `http://127.0.0.1:${sidecar.adminPort}/`;
    const page = await browser.newPage();
    await page.goto(url);
    const locked = await sectionText(page, 'accounts');
    console.log(`without the token: accounts ${locked.state} (${locked.text.split('\n').pop()})`);
    assert.equal(locked.state, 'unauthorized');
    await page.fill('#switch-form input[name=from]', 'primary');
    await page.fill('#switch-form input[name=to]', 'backup');
    await page.click('#switch-form button[type=submit]');
    await page.waitForSelector('#switch-msg:text-is("admin token required")', { timeout: 5000 });
    assert.equal(sidecar.reloader.current?.switchMap.size, 0, 'no switch without the token');

    await page.fill('#token', TOKEN);
    await page.dispatchEvent('#token', 'change');
    await page.waitForSelector('section#accounts[data-state=ok]', { timeout: 5000 });
    assert.match(await page.innerText('section#accounts'), /shared-acct/);
    await page.click('#switch-form button[type=submit]');
    await page.waitForSelector('#switch-msg:text-is("switched")', { timeout: 5000 });
    assert.equal(sidecar.reloader.current?.switchMap.get('primary'), 'backup');
    console.log('with the token: accounts shown, switch primary → backup applied');
    await page.close();
  });
});

describe('admin page with every section present', () => {
  // A stand-in admin port answering every endpoint the page reads, in the shapes the sidecar's
  // endpoints have (clusters, adaptive limits, drills and mirrors included), and recording posts.
  let server: TestServer;
  let browser: Browser;
  const posted: { method: string; path: string; body: string }[] = [];
  const views: Record<string, unknown> = {
    '/admin/rules': { version: 'abcdef0123456789', loaded_at: '2026-12-02T00:00:00.000Z', files: [], last_error: null, store: { kind: 'redis', up: true }, switch: { current: {}, source: 'rules', instance: null, at: null, warnings: [] } },
    '/admin/accounts': { accounts: [], unregistered: [] },
    '/admin/breakers': { breakers: [] },
    '/admin/hotkeys': { rules: [] },
    '/admin/clusters': {
      clusters: [
        { name: 'primary', balance: 'least_request', endpoints: [
          { url: 'http://10.0.0.1:8080', healthy: true, inFlight: 3, ejected: false, ejections: 0 },
          { url: 'http://10.0.0.2:8080', healthy: false, inFlight: 0, ejected: false, ejections: 1 },
        ] },
      ],
    },
    '/admin/adaptive': { clusters: [{ cluster: 'primary', algorithm: 'gradient', limit: 37, inflight: 12, noload_ms: 4.2 }] },
    '/admin/faults': { faults: [
      { name: 'db-outage-drill', origin: 'admin', cluster: 'primary', delay_ms: 300, delay_percent: 50, abort: null, abort_percent: 0, until: '2026-12-02T01:00:00.000Z' },
      { name: 'weekly-drill', origin: 'rules', cluster: 'backup', delay_ms: 0, delay_percent: 0, abort: 503, abort_percent: 10, until: null },
    ] },
    '/admin/mirrors': { mirrors: [{ name: 'mysql-check', from: 'primary', to: 'mysql-new', percent: 10, counts: { match: 950, mismatch: 3, error: 1, dropped: 0 }, recent_mismatches: [{ route: 'GET /members/*', paths: ['/level'] }] }] },
  };

  before(async () => {
    server = await startHttpServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (path === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ADMIN_PAGE_HTML);
          return;
        }
        if (req.method !== 'GET') {
          posted.push({ method: req.method ?? '', path, body });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        const view = views[path];
        if (view === undefined) res.writeHead(404).end('{}');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view));
      });
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows clusters and endpoints, adaptive limits, drills and mirrors, and starts and ends a drill', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${server.port}/`);
    const clusters = await sectionText(page, 'clusters');
    assert.equal(clusters.state, 'ok');
    assert.match(clusters.text, /primary\s+least_request\s+http:\/\/10\.0\.0\.1:8080\s+healthy/);
    assert.match(clusters.text, /http:\/\/10\.0\.0\.2:8080\s+unhealthy/);
    const adaptive = await sectionText(page, 'adaptive');
    assert.match(adaptive.text, /gradient\s+37\s+12/);
    const faults = await sectionText(page, 'faults');
    assert.match(faults.text, /db-outage-drill\s+admin\s+primary\s+300 ms × 50%/);
    assert.match(faults.text, /weekly-drill\s+rules.*in the rules files/);
    const mirrors = await sectionText(page, 'mirrors');
    assert.match(mirrors.text, /mysql-check\s+primary → mysql-new \(10%\)\s+950 \/ 3 \/ 1 \/ 0/);
    assert.match(mirrors.text, /route=GET \/members\/\*/);
    console.log(`every section present:\n${[clusters, adaptive, faults, mirrors].map((s) => s.text).join('\n')}`);

    await page.fill('#fault-form input[name=name]', 'primary-slow-drill');
    await page.fill('#fault-form input[name=cluster]', 'primary');
    await page.fill('#fault-form input[name=delay]', '300ms');
    await page.fill('#fault-form input[name=delay_percent]', '50');
    await page.fill('#fault-form input[name=ttl]', '5m');
    await page.click('#fault-form button[type=submit]');
    await page.waitForSelector('#fault-msg:text-is("drill started")', { timeout: 5000 });
    await page.click('section#faults button:text-is("End")');
    await page.waitForSelector('#fault-msg:text-is("drill ended")', { timeout: 5000 });
    assert.deepEqual(
      posted.map((p) => [p.method, p.path, p.body === '' ? null : JSON.parse(p.body)]),
      [
        ['POST', '/admin/faults', { name: 'primary-slow-drill', cluster: 'primary', delay: '300ms', ttl: '5m', delay_percent: 50 }],
        ['DELETE', '/admin/faults/db-outage-drill', null],
      ],
    );
    const shot = join(tmpdir(), 'sluice-admin-page-all-sections.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot ${shot}`);
    await page.close();
  });
});
