// Whole-process: a collector that is down, or answers only after many seconds, costs requests
// nothing (SPEC §15). Four sidecars side by side under the same load, in interleaved rounds:
// tracing off, and tracing every request (sample 1) to a healthy, a dead and a slow collector.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../helpers/load.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { freePort } from '../helpers/servers.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

const ROUNDS = 3;
const ORDER = { 'x-caller-account': 'order-center' };

interface Figures {
  latencies: number[];
  answered: number;
  notOk: number;
  failures: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

describe('tracing to a dead or slow collector (whole process)', () => {
  let healthy: OtlpReceiver;
  let slow: OtlpReceiver;
  const stacks = new Map<string, Stack>();

  before(async () => {
    healthy = await startOtlpReceiver();
    slow = await startOtlpReceiver();
    slow.delayMs = 30_000;
    const dead = await freePort();
    const tracing = (url: string): string => `tracing: { otlp: "${url}/v1/traces", sample: 1 }\n`;
    const variants: [string, string][] = [
      ['off', ''],
      ['healthy collector', tracing(healthy.url)],
      ['dead collector', tracing(`http://127.0.0.1:${dead}`)],
      ['slow collector', tracing(slow.url)],
    ];
    for (const [name, extra] of variants) stacks.set(name, await startStack((ports) => memberServiceRules(ports, extra)));
  });

  after(async () => {
    for (const stack of stacks.values()) await stack.close();
    await healthy?.close();
    await slow?.close();
  });

  it('answers every request as fast as with a healthy collector', async () => {
    const figures = new Map<string, Figures>();
    for (const name of stacks.keys()) figures.set(name, { latencies: [], answered: 0, notOk: 0, failures: 0 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, stack] of stacks) {
        const f = figures.get(name) as Figures;
        const tally = await runLoad(stack.sidecar.url, {
          connections: 8,
          durationMs: 1500,
          maxRequests: 1500,
          request: (i) => ({ path: `/members/${i}`, headers: ORDER }),
          onAnswer: (answer) => {
            f.latencies.push(answer.answeredAt - answer.sentAt);
            if (answer.status !== 200) f.notOk++;
          },
        });
        f.answered += tally.answered;
        f.failures += tally.failures.length;
      }
    }
    const rows = new Map<string, { p50: number; p99: number; max: number }>();
    console.log('variant             requests  non-200  failures   p50 ms   p99 ms   max ms');
    for (const [name, f] of figures) {
      const sorted = [...f.latencies].sort((a, b) => a - b);
      const row = { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
      rows.set(name, row);
      console.log(
        `${name.padEnd(18)} ${String(f.answered).padStart(9)} ${String(f.notOk).padStart(8)} ${String(f.failures).padStart(9)} ` +
          `${row.p50.toFixed(2).padStart(8)} ${row.p99.toFixed(2).padStart(8)} ${row.max.toFixed(1).padStart(8)}`,
      );
    }
    console.log(`spans received: healthy collector ${healthy.spans.length}, slow collector ${slow.spans.length} (posts held ${slow.delayMs} ms)`);
    for (const [name, f] of figures) {
      assert.ok(f.answered > 1000, `${name}: ${f.answered} answered`);
      assert.equal(f.notOk, 0, `${name}: every request answered 200`);
      assert.equal(f.failures, 0, `${name}: no transport failure`);
    }
    assert.ok(healthy.spans.length > 1000, 'the healthy collector got the spans');
    assert.ok(slow.batches > 0, 'the slow collector was being sent to while the load ran');
    const base = rows.get('healthy collector') as { p50: number; p99: number };
    for (const name of ['dead collector', 'slow collector']) {
      const row = rows.get(name) as { p50: number; p99: number; max: number };
      // An export the request waited on would cost seconds (the exporter's timeout is 5 s).
      assert.ok(row.max < 1000, `${name}: slowest request ${row.max.toFixed(1)} ms`);
      assert.ok(row.p50 <= base.p50 * 2 + 2, `${name}: p50 ${row.p50.toFixed(2)} ms vs ${base.p50.toFixed(2)} ms`);
      assert.ok(row.p99 <= base.p99 * 2 + 5, `${name}: p99 ${row.p99.toFixed(2)} ms vs ${base.p99.toFixed(2)} ms`);
    }
  });
});
