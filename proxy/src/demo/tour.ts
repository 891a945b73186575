// The tour: stand-in member service, the sidecar with a copy of the example rules, then each
// phase's traffic with a live view. Everything runs in this process on loopback and is closed at
// the end, whatever happened.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { Sidecar } from '../sidecar.ts';
import { prepareDemoRules, type DemoRules } from './demo-rules.ts';
import { accountsReportBlock } from './ledger-report.ts';
import { capPrimary } from './lunch-hour.ts';
import { startMemberService, type MemberService } from './member-service.ts';
import { migrationPhase } from './migration-phase.ts';
import { phaseMs, tourPhases, type Phase } from './phases.ts';
import { BreakerWatch, sidecarLog, type SidecarLog } from './sidecar-watch.ts';
import { Tally } from './tally.ts';
import { TrafficRunner } from './traffic.ts';
import { makeStyle, phaseHeading, renderFrame, renderPhaseBlock, renderSummary, type DemoEvent, type PhaseView, type Row, wrapText } from './view.ts';

export interface TourOptions {
  /** Multiplies every phase's duration (0.2: a fast run). */
  readonly scale: number;
  readonly color: boolean;
  /** Live redraw (a terminal) or one block per phase (a pipe, a CI log). */
  readonly live: boolean;
  readonly out: NodeJS.WritableStream;
  /** Columns to wrap text at. */
  readonly width: number;
  readonly signal?: AbortSignal;
  /** Rules to copy; defaults to the shipped rules/. */
  readonly rulesSource?: string;
}

const REDRAW_MS = 500;
const BREAKER_POLL_MS = 250;

export async function runTour(options: TourOptions): Promise<{ interrupted: boolean }> {
  const style = makeStyle(options.color);
  const out = options.out;
  const signal = options.signal ?? new AbortController().signal;
  const tourStart = performance.now();
  const events: DemoEvent[] = [];
  const addEvent = (text: string): void => {
    events.push({ atMs: performance.now() - tourStart, text });
  };

  let service: MemberService | null = null;
  let rules: DemoRules | null = null;
  let logSink: SidecarLog | null = null;
  let sidecar: Sidecar | null = null;
  let traffic: TrafficRunner | null = null;
  let watch: BreakerWatch | null = null;
  let redraw: NodeJS.Timeout | null = null;
  try {
    service = await startMemberService();
    capPrimary(service);
    rules = await prepareDemoRules({
      endpoints: new Map(service.all.map((c) => [c.name, c.url])),
      fallbackUrl: service.primary.url,
      scale: options.scale,
      source: options.rulesSource,
    });
    logSink = sidecarLog(join(tmpdir(), `sluice-demo-${process.pid}.log`), (text, event) => {
      if (event !== 'rules_loaded') addEvent(text);
    });
    sidecar = await Sidecar.start({ rules: rules.dir, listen: '127.0.0.1:0', admin: '127.0.0.1:0', log: logSink.log });
    const dataUrl = `http://127.0.0.1:${sidecar.dataPort}`;
    const adminUrl = `http://127.0.0.1:${sidecar.adminPort}`;
    traffic = new TrafficRunner(dataUrl);
    watch = new BreakerWatch(adminUrl);
    watch.start(BREAKER_POLL_MS);

    const phases = [...tourPhases(rules.rules), migrationPhase()];
    const header = [
      style.bold('sluice demo: a tour of traffic governance on this machine'),
      `  sidecar ${dataUrl} (admin ${adminUrl}, metrics ${adminUrl}/metrics)`,
      `  stand-in member service: ${service.all.map((c) => `${c.name} ${c.url}`).join(', ')}`,
      `  rules: a copy of ${options.rulesSource ?? 'rules/'} in ${rules.dir}, adjusted for one laptop:`,
      ...rules.notes.flatMap((n) => wrapText(n, options.width - 6).map((line, i) => style.dim(`${i === 0 ? '    - ' : '      '}${line}`))),
    ];
    const totalSeconds = phases.reduce((s, p) => s + phaseMs(p, options.scale), 0) / 1000;
    if (options.live) out.write('\x1b[?25l\x1b[2J');
    else out.write(`${header.join('\n')}\n  ${phases.length} phases, about ${Math.ceil(totalSeconds)} s in all.\n\n`);

    const totals = new Map<string, Tally>();
    for (let index = 0; index < phases.length && !signal.aborted; index++) {
      const phase = phases[index];
      const durationMs = phaseMs(phase, options.scale);
      const phaseStart = performance.now();
      const tallies = new Map(phase.streams.map((s) => [s.label, new Tally()]));
      const view = (): PhaseView => ({
        index,
        count: phases.length,
        title: phase.title,
        explain: phase.explain,
        elapsedMs: Math.min(durationMs, performance.now() - phaseStart),
        durationMs,
        rows: phase.streams.map((s): Row => ({ label: s.label, rate: s.rate, tally: tallies.get(s.label) ?? new Tally() })),
        breakers: watch?.current ?? null,
        events: events.filter((e) => e.atMs >= phaseStart - tourStart),
      });
      // Home, redraw over the old frame clearing each line's rest, then clear below.
      const draw = (): void => {
        out.write(`\x1b[H${renderFrame(view(), header, style, options.width).replace(/\n/g, '\x1b[K\n')}\x1b[K\x1b[J`);
      };
      if (options.live) {
        draw();
        redraw = setInterval(draw, REDRAW_MS);
      } else {
        out.write(`${style.bold(`== ${phaseHeading({ index, count: phases.length, title: phase.title })} (${(durationMs / 1000).toFixed(1)} s) ==`)}\n`);
        out.write(`${wrapText(phase.explain, options.width - 2).map((l) => `  ${l}`).join('\n')}\n`);
      }
      await runPhase(phase, durationMs, { traffic, tallies, service, watch, signal, addEvent, adminUrl, rulesDir: rules.dir });
      if (redraw !== null) {
        clearInterval(redraw);
        redraw = null;
        draw();
      } else out.write(`${renderPhaseBlock(view(), style)}\n`);
      for (const s of phase.streams) {
        const total = totals.get(s.label) ?? new Tally();
        total.add(tallies.get(s.label) ?? new Tally());
        totals.set(s.label, total);
      }
    }

    const excerpt = await metricsExcerpt(adminUrl);
    const rows = [...totals].map(([label, tally]): Row => ({ label, rate: 0, tally }));
    if (options.live) out.write('\n\x1b[?25h');
    out.write(
      `${renderSummary(rows, { adminUrl, elapsedMs: performance.now() - tourStart, metricsExcerpt: excerpt, interrupted: signal.aborted }, style)}`,
    );
    out.write(`\n${accountsReportBlock(sidecar, style)}\n`);
    out.write(`${style.dim(`The sidecar's own log (JSON, control events only): ${logSink.file}`)}\n`);
    return { interrupted: signal.aborted };
  } finally {
    if (redraw !== null) clearInterval(redraw);
    if (options.live) out.write('\x1b[?25h');
    await watch?.stop();
    await traffic?.close();
    await sidecar?.stop(2000);
    await service?.close();
    await rules?.remove();
    await logSink?.close();
  }
}

interface PhaseDeps {
  readonly traffic: TrafficRunner;
  readonly tallies: ReadonlyMap<string, Tally>;
  readonly service: MemberService;
  readonly watch: BreakerWatch;
  readonly signal: AbortSignal;
  readonly adminUrl: string;
  addEvent(text: string): void;
  readonly rulesDir: string;
}

async function runPhase(phase: Phase, durationMs: number, deps: PhaseDeps): Promise<void> {
  const script = phase.script?.({
    service: deps.service,
    durationMs,
    signal: deps.signal,
    adminUrl: deps.adminUrl,
    breakerState: (name) => deps.watch.stateOf(name),
    event: deps.addEvent,
    rulesDir: deps.rulesDir,
  });
  await deps.traffic.run(phase.streams, deps.tallies, durationMs, { signal: deps.signal, drainMs: 2500 });
  await script;
}

/** The rejection and breaker lines of the sidecar's /metrics, to show what Prometheus gets. */
async function metricsExcerpt(adminUrl: string): Promise<string[]> {
  const pool = new Pool(adminUrl, { connections: 1, headersTimeout: 3000, bodyTimeout: 3000 });
  try {
    const { statusCode, body } = await pool.request({ method: 'GET', path: '/metrics' });
    const text = await body.text();
    if (statusCode !== 200) return [];
    const wanted = text
      .split('\n')
      .filter((l) => l.startsWith('sluice_rejections_total{') || l.startsWith('sluice_breaker_state{'));
    return wanted.slice(0, 14);
  } catch {
    return [];
  } finally {
    await pool.destroy();
  }
}
