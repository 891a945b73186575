// What the demo prints: a live frame (redrawn on a terminal), a block per phase (when the output
// is a pipe or a CI log), and the closing summary. Pure functions from state to text.
import type { Tally } from './tally.ts';

export const CLUSTERS = ['primary', 'marketing', 'backup'] as const;

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (code: number) => (s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), green: wrap(32), red: wrap(31), yellow: wrap(33), cyan: wrap(36) };
}

export interface Row {
  readonly label: string;
  /** Requests per second sent, or 0 when the stream is idle in this phase. */
  readonly rate: number;
  readonly tally: Tally;
}

export interface BreakerView {
  readonly name: string;
  readonly cluster: string;
  readonly state: string;
}

export interface DemoEvent {
  /** Milliseconds since the tour started. */
  readonly atMs: number;
  readonly text: string;
}

export interface PhaseView {
  readonly index: number;
  readonly count: number;
  readonly title: string;
  readonly explain: string;
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly rows: readonly Row[];
  /** null: the admin API did not answer. */
  readonly breakers: readonly BreakerView[] | null;
  readonly events: readonly DemoEvent[];
}

export function phaseHeading(view: Pick<PhaseView, 'index' | 'count' | 'title'>): string {
  return `Phase ${view.index + 1}/${view.count}: ${view.title}`;
}

/** The live frame: everything on one screen. */
export function renderFrame(view: PhaseView, header: readonly string[], style: Style, width = 100): string {
  const progress = `${(view.elapsedMs / 1000).toFixed(1)} s / ${(view.durationMs / 1000).toFixed(1)} s`;
  return [
    ...header,
    '',
    `${style.bold(phaseHeading(view))}  ${style.dim(progress)}`,
    ...wrapText(view.explain, width - 2).map((l) => `  ${l}`),
    '',
    ...renderTable(view.rows, style),
    '',
    renderBreakers(view.breakers, style),
    ...renderEvents(view.events.slice(-6), style),
    '',
    style.dim('Ctrl-C ends the tour early.'),
  ].join('\n');
}

/** One block per phase for non-terminal output. */
export function renderPhaseBlock(view: PhaseView, style: Style): string {
  return [...renderTable(view.rows, style), renderBreakers(view.breakers, style), ...renderEvents(view.events, style), ''].join('\n');
}

export function renderTable(rows: readonly Row[], style: Style): string[] {
  const head = `${pad('caller', 20)} ${padL('rate', 6)} ${padL('sent', 7)} ${padL('primary', 8)} ${padL('marketing', 9)} ${padL('backup', 7)}  rejected (reason) / other`;
  const lines = [style.dim(head)];
  for (const row of rows) {
    const t = row.tally;
    const admitted = CLUSTERS.map((c, i) => {
      const n = t.admittedBy(c);
      const cell = padL(n === 0 ? '-' : String(n), [8, 9, 7][i]);
      return n === 0 ? style.dim(cell) : style.green(cell);
    });
    const rejected = [...t.rejected].sort((a, b) => b[1] - a[1]).map(([reason, n]) => style.red(`${reason} ${n}`));
    const other = [...t.other].sort((a, b) => b[1] - a[1]).map(([what, n]) => style.yellow(`${what} ${n}`));
    const extra = [...t.admitted.keys()].filter((c) => !(CLUSTERS as readonly string[]).includes(c)).map((c) => `${c} ${t.admittedBy(c)}`);
    const tail = [...rejected, ...other, ...extra];
    lines.push(
      `${pad(row.label, 20)} ${padL(row.rate > 0 ? `${row.rate}/s` : '-', 6)} ${padL(String(t.sent), 7)} ${admitted.join(' ')}  ${tail.length === 0 ? style.dim('-') : tail.join(', ')}`,
    );
  }
  return lines;
}

export function renderBreakers(breakers: readonly BreakerView[] | null, style: Style): string {
  if (breakers === null) return `breakers: ${style.yellow('admin API not answering')}`;
  if (breakers.length === 0) return `breakers: ${style.dim('none configured')}`;
  const shown = breakers.map((b) => {
    const state = b.state === 'closed' ? style.green(b.state) : b.state === 'open' ? style.red(b.state) : style.yellow(b.state);
    return `${b.name} (${b.cluster}) ${state}`;
  });
  return `breakers: ${shown.join(' · ')}`;
}

export function renderEvents(events: readonly DemoEvent[], style: Style): string[] {
  return events.map((e) => `  ${style.dim(`+${(e.atMs / 1000).toFixed(1).padStart(5)} s`)}  ${e.text}`);
}

/** Closing summary: totals per caller over the whole tour, then where to look next. */
export function renderSummary(
  rows: readonly Row[],
  info: { adminUrl: string; elapsedMs: number; metricsExcerpt: readonly string[]; interrupted: boolean },
  style: Style,
): string {
  const lines = [
    style.bold(`Summary: ${info.interrupted ? 'tour interrupted' : 'tour complete'} in ${(info.elapsedMs / 1000).toFixed(1)} s`),
    ...renderTable(rows, style),
    '',
  ];
  if (info.metricsExcerpt.length > 0) {
    lines.push(`What Prometheus saw (${info.adminUrl}/metrics, excerpt):`, ...info.metricsExcerpt.map((l) => `  ${style.dim(l)}`), '');
  }
  lines.push(
    style.bold('Next steps'),
    `  Prometheus: scrape a running sidecar's admin port at /metrics (this tour served ${info.adminUrl}/metrics;`,
    '              `sluice start` serves http://127.0.0.1:9901/metrics by default).',
    '  Grafana:    import dashboards/sluice.json (the datasource is a variable); alert rules: dashboards/alerts.yaml.',
    '  Rules:      rules/sluice.yaml and rules/callers.yaml; check them with `sluice validate rules/`.',
    '',
  );
  return lines.join('\n');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padL(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
