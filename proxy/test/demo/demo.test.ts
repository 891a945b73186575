// `sluice demo` end to end: the real command as a child process, output to a pipe (not a
// terminal), so it prints one block per phase and a summary, and ends by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { SLUICE_BIN } from '../helpers/sidecar-process.ts';

const DEADLINE_MS = 90_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runDemo(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, [SLUICE_BIN, 'demo', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/** The block a phase printed: from its heading to the next heading or the summary. */
function phaseBlock(output: string, n: number): string {
  const start = output.search(new RegExp(`== Phase ${n}/\\d+:`));
  assert.ok(start >= 0, `phase ${n} heading missing`);
  const next = output.slice(start + 1).search(/\n== Phase |\nSummary:/);
  return next < 0 ? output.slice(start) : output.slice(start, start + 1 + next);
}

/** A caller's row in a table: its sent, primary, marketing, backup columns and the reasons text. */
function row(block: string, label: string): { sent: number; primary: number; marketing: number; backup: number; rest: string } {
  const line = block.split('\n').find((l) => l.startsWith(`${label} `) && !l.startsWith(`${label} (`));
  assert.ok(line !== undefined, `no row for ${label} in:\n${block}`);
  const cells = line.slice(20).trim().split(/\s+/);
  const num = (s: string): number => (s === '-' ? 0 : Number(s));
  return { sent: num(cells[1]), primary: num(cells[2]), marketing: num(cells[3]), backup: num(cells[4]), rest: cells.slice(5).join(' ') };
}

test('sluice demo runs every phase, shows why requests were refused, and ends by itself', { timeout: DEADLINE_MS + 10_000 }, async () => {
  const started = Date.now();
  const run = await runDemo(['--duration-scale', '0.15']);
  const output = run.stdout;
  assert.equal(run.code, 0, `exit code ${String(run.code)}; stderr:\n${run.stderr}\nstdout:\n${output}`);
  assert.ok(Date.now() - started < DEADLINE_MS);
  assert.doesNotMatch(output, /\x1b\[/, 'no ANSI escapes when stdout is not a terminal');

  for (const [n, title] of [
    [1, 'Normal order flow'],
    [2, 'Marketing flood'],
    [3, 'A caller stuck in a loop'],
    [4, 'A hot member id'],
    [5, 'Primary slowdown'],
    [6, 'Chaos drill on primary'],
    [7, 'Lunch-hour overload'],
    [8, 'Migration cut-over'],
  ] as const) {
    assert.match(output, new RegExp(`== Phase ${n}/\\d+: ${title} \\(`), `heading of phase ${n}`);
  }

  // Normal flow: order traffic served by primary, marketing by its own cluster and never primary.
  const normal = phaseBlock(output, 1);
  const order = row(normal, 'order-center');
  assert.ok(order.primary > 0, `order-center admitted on primary:\n${normal}`);
  const marketing = row(normal, 'marketing-campaign');
  assert.ok(marketing.marketing > 0, `marketing-campaign admitted on marketing:\n${normal}`);
  assert.equal(marketing.primary, 0, 'marketing never reaches primary');

  // Flood: marketing shed by its class ceiling, order flow still admitted.
  const flood = phaseBlock(output, 2);
  assert.match(row(flood, 'marketing-campaign').rest, /global_cap \d+/, flood);
  assert.ok(row(flood, 'order-center').primary > 0, flood);

  // Loop: the looping caller hits its account quota.
  const loop = phaseBlock(output, 3);
  assert.match(row(loop, 'fraud-check').rest, /account_quota \d+/, loop);

  // Hot member id: the bot's one member id is throttled, other ids pass.
  const hot = phaseBlock(output, 4);
  assert.match(hot.split('\n').find((l) => l.startsWith('booking-app (bot)')) ?? '', /hot_key \d+/, hot);
  assert.doesNotMatch(row(hot, 'order-center').rest, /hot_key/, hot);

  // Slowdown: the script ran; the rt breaker reported opening.
  const slow = phaseBlock(output, 5);
  assert.match(slow, /primary slows down/, slow);
  assert.match(slow, /breaker primary-slow \(primary\): closed → open/, slow);

  // Chaos drill: started through the admin API, the rt breaker opened on the injected latency,
  // and the drill ended by itself.
  const drill = phaseBlock(output, 6);
  assert.match(drill, /drill demo-primary-drill started: \+300 ms on primary/, drill);
  assert.match(drill, /breaker primary-slow \(primary\): closed → open/, drill);
  assert.match(drill, /drill demo-primary-drill ended by itself/, drill);
  assert.ok(row(drill, 'order-center').backup > 0, `order flow failed over to backup:\n${drill}`);

  // Cut-over: the split raised 1% → 10% → 50% by rules reloads, mirror mismatches named by JSON path.
  const cutOver = phaseBlock(output, 8);
  for (const percent of [1, 10, 50]) assert.match(cutOver, new RegExp(`split order → mysql-new at ${percent}% \\(in force after \\d+ ms\\)`), cutOver);
  assert.match(cutOver, /mirror mysql-check: \d+ match, [1-9]\d* mismatch, 0 error/, cutOver);
  assert.match(cutOver, /differing: \/members\/\{id\} \/level/, cutOver);
  assert.match(row(cutOver, 'order-center').rest, /mysql-new \d+/, cutOver);
  assert.match(cutOver, /rules restored/, cutOver);

  // Lunch hour: the batch surge is shed as overloaded while order flow is served by primary.
  const lunch = phaseBlock(output, 7);
  assert.match(row(lunch, 'loyalty-export').rest, /overloaded \d+/, lunch);
  assert.ok(row(lunch, 'loyalty-export').primary > 0, `the lower class is shed, not starved:\n${lunch}`);
  assert.ok(row(lunch, 'order-center').primary > 0, lunch);
  assert.match(lunch, /adaptive limit on primary: L \d+, \d+ in flight, no-load latency [\d.]+ ms; admitted while in flight is order below [\d.]+, batch below [\d.]+/, lunch);

  assert.match(output, /Summary: tour complete/);
  assert.match(output, /http:\/\/127\.0\.0\.1:\d+\/metrics/);
  assert.match(output, /dashboards\/sluice\.json/);
  assert.match(output, /sluice_rejections_total\{[^}]*reason="account_quota"\}/);
  // The accounts report of the tour's own traffic: booking-app's key is reused by a second service.
  assert.match(output, /Who really called with each account/);
  const bookingRow = /^ {2}booking-app .*$/m.exec(output.slice(output.indexOf('Who really called')))?.[0] ?? '';
  assert.match(bookingRow, /2 \((hotel-checkout, price-scraper|price-scraper, hotel-checkout)\)/, bookingRow);
  assert.match(bookingRow, /shared/, bookingRow);
  assert.match(output, /^ {2}fraud-check .*throttled/m);
  assert.match(output, /sluice accounts set-quota order-center \d+\/s/);
});

test('Ctrl-C ends the tour early, cleanly, with a summary', { timeout: DEADLINE_MS }, async () => {
  const child = spawn(process.execPath, [SLUICE_BIN, 'demo', '--duration-scale', '0.5'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let interrupted = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    // One Ctrl-C: a second one is the way to quit without waiting for the cleanup.
    if (!interrupted && /== Phase 2\//.test(stdout)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.resume();
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  assert.equal(code, 130, stdout);
  assert.match(stdout, /Summary: tour interrupted/);
  assert.doesNotMatch(stdout, /== Phase 3\//);
});

test('sluice demo refuses a bad --duration-scale with a usage error', async () => {
  const run = await runDemo(['--duration-scale', 'fast']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^sluice demo: --duration-scale: expected a number/);
  assert.equal(run.stdout, '');
});
