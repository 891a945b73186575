// `npm run bench:tracing`: what OpenTelemetry tracing costs a running sidecar, in CPU per request.
// Three sidecar processes on the same rules (caller identified and routed, bench/rules/
// identify-route.yaml), one with tracing off, one sampling 1% of requests, one 100%, exporting to
// an OTLP/HTTP sink in this process. The same load generator drives each in turn, in interleaved
// rounds (the order rotates every round), and each traced variant is reported as a ratio to the
// off variant of the same round, so drift of the machine's load cancels out.
//   node bench/tracing.ts [--rounds N] [--duration S] [--warmup S] [--connections N] [--quick]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, installCleanup, readyLine, spawnChild, stopAll, waitUntil, type Child } from './children.ts';
import { LoadGenerator } from './load-generator.ts';
import { cpuMicros, processTree } from './proc.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
  },
});
const quick = values.quick === true;
const rounds = Number(values.rounds ?? (quick ? 2 : 5));
const durationS = Number(values.duration ?? (quick ? 3 : 8));
const warmupS = Number(values.warmup ?? (quick ? 2 : 5));
const connections = Number(values.connections ?? 32);

interface Variant {
  readonly name: string;
  /** The rules' tracing section, or '' for none. */
  readonly tracing: (sinkUrl: string) => string;
}

const VARIANTS: readonly Variant[] = [
  { name: 'tracing off', tracing: () => '' },
  { name: 'sample 1%', tracing: (url) => `tracing: { otlp: "${url}/v1/traces", sample: 0.01 }\n` },
  { name: 'sample 100%', tracing: (url) => `tracing: { otlp: "${url}/v1/traces", sample: 1 }\n` },
];

interface Row {
  cpuUsPerReq: number[];
  rps: number[];
  p99Ms: number[];
  /** CPU per request over the off variant's, same round. */
  ratio: number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** The collector stand-in: takes every OTLP post, counts the bytes, answers 200. */
async function startSink(): Promise<{ url: string; posts: () => number; close: () => void }> {
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, posts: () => posts, close: () => server.close() };
}

async function main(): Promise<void> {
  installCleanup();
  const tmpDir = mkdtempSync(join(tmpdir(), 'sluice-bench-tracing-'));
  const sink = await startSink();
  try {
    const upstream = spawnChild('upstream', process.execPath, [join(benchDir, 'upstream.ts')], { logDir: tmpDir, ownChild: true });
    const upstreamPort = Number((await readyLine(upstream, 10_000)).port);
    const template = readFileSync(join(benchDir, 'rules', 'identify-route.yaml'), 'utf8').replaceAll('${UPSTREAM_PORT}', String(upstreamPort));
    const sidecars = new Map<string, { url: string; child: Child }>();
    for (const variant of VARIANTS) {
      const file = join(tmpDir, `${variant.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, template + variant.tracing(sink.url));
      const [port, adminPort] = [await freePort(), await freePort()];
      const child = spawnChild(variant.name.replace(/\W+/g, '-'), process.execPath,
        [join(root, 'bin', 'sluice.js'), 'start', '--rules', file, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`],
        { logDir: tmpDir });
      await waitUntil(child, 'ready', () => httpOk(`http://127.0.0.1:${adminPort}/readyz`), 20_000);
      sidecars.set(variant.name, { url: `http://127.0.0.1:${port}`, child });
    }
    const load = await LoadGenerator.start(tmpDir);
    process.stdout.write(`tracing bench: ${rounds} rounds of ${durationS} s per variant, ${connections} connections, warmup ${warmupS} s each\n`);
    for (const [name, sidecar] of sidecars) {
      await load.run(sidecar.url, connections, warmupS);
      process.stdout.write(`  warmed up ${name}\n`);
    }
    const rows = new Map<string, Row>(VARIANTS.map((v) => [v.name, { cpuUsPerReq: [], rps: [], p99Ms: [], ratio: [] }]));
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      const cpu = new Map<string, number>();
      for (const variant of order) {
        const sidecar = sidecars.get(variant.name) as { url: string; child: Child };
        const tree = processTree(sidecar.child.pid);
        const before = cpuMicros(tree);
        const result = await load.run(sidecar.url, connections, durationS);
        const used = cpuMicros(tree) - before;
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${variant.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        const perRequest = used / result.responses;
        cpu.set(variant.name, perRequest);
        const row = rows.get(variant.name) as Row;
        row.cpuUsPerReq.push(perRequest);
        row.rps.push(result.rps);
        row.p99Ms.push(result.p99Ms);
        process.stdout.write(`  round ${round + 1} ${variant.name.padEnd(12)} ${perRequest.toFixed(1)} µs/req  ${Math.round(result.rps)} req/s  p99 ${result.p99Ms.toFixed(2)} ms\n`);
      }
      const off = cpu.get('tracing off') as number;
      for (const variant of VARIANTS) (rows.get(variant.name) as Row).ratio.push((cpu.get(variant.name) as number) / off);
    }
    await load.stop();
    const lines = [
      '| variant | CPU µs/req (median) | × off (median of rounds, min–max) | req/s (median) | p99 ms (median) |',
      '|---|---|---|---|---|',
    ];
    const summary: Record<string, unknown> = {};
    for (const [name, row] of rows) {
      const ratio = `${median(row.ratio).toFixed(3)} (${Math.min(...row.ratio).toFixed(3)}–${Math.max(...row.ratio).toFixed(3)})`;
      lines.push(`| ${name} | ${median(row.cpuUsPerReq).toFixed(1)} | ${ratio} | ${Math.round(median(row.rps))} | ${median(row.p99Ms).toFixed(2)} |`);
      summary[name] = { cpu_us_per_req: row.cpuUsPerReq, ratio_to_off: row.ratio, rps: row.rps, p99_ms: row.p99Ms };
    }
    lines.push('', `OTLP posts received by the sink: ${sink.posts()}`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
    const resultsDir = join(benchDir, 'results');
    mkdirSync(resultsDir, { recursive: true });
    const out = join(resultsDir, quick ? 'tracing-quick.json' : 'tracing.json');
    writeFileSync(out, `${JSON.stringify({ rounds, duration_s: durationS, connections, variants: summary }, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await stopAll();
    sink.close();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

await main();
