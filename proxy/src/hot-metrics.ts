// Counters and histograms for the request path. prom-client's own `labels(...).inc()` re-hashes the
// label set on every call; these keep one plain number (or bucket array) per label set, made once,
// and hand prom-client the values only when /metrics is scraped. Registered in the same registry,
// exposed in the same text format, so names and labels are exactly those of SPEC §6.
import type { Metric, Registry } from 'prom-client';

type LabelMap = Record<string, string>;

interface ExposedValue {
  value: number;
  labels: LabelMap;
  metricName?: string;
}

interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'histogram' | 'gauge';
  aggregator: 'sum';
  values: ExposedValue[];
}

function labelMap(names: readonly string[], values: readonly string[]): LabelMap {
  if (values.length !== names.length) throw new Error(`expected labels ${names.join(',')}, got ${values.length} values`);
  const labels: LabelMap = {};
  for (let i = 0; i < names.length; i++) labels[names[i]] = values[i];
  return labels;
}

/** One counter series: `inc()` is one addition. */
export class CounterSeries {
  value = 0;
  readonly labels: LabelMap;
  constructor(labels: LabelMap) {
    this.labels = labels;
  }
  inc(amount = 1): void {
    this.value += amount;
  }
}

/** One histogram series: a linear scan over a handful of bounds and three additions. */
export class HistogramSeries {
  readonly labels: LabelMap;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];
  constructor(labels: LabelMap, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

abstract class HotMetric<S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly labelNames: readonly string[];
  protected readonly series = new Map<string, S>();

  constructor(config: { name: string; help: string; labelNames?: readonly string[]; registers?: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    // prom-client's registry takes any object with name/help/type and an async get().
    for (const registry of config.registers ?? []) registry.registerMetric(this as unknown as Metric);
  }

  protected abstract make(labels: LabelMap): S;

  /** The series for these label values, made on first use: cache it, don't call this per request. */
  labels(...values: string[]): S {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.make(labelMap(this.labelNames, values));
      this.series.set(key, s);
    }
    return s;
  }

  remove(...values: string[]): void {
    this.series.delete(values.join('\u0000'));
  }

  reset(): void {
    this.series.clear();
  }
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter' as const;

  protected make(labels: LabelMap): CounterSeries {
    return new CounterSeries(labels);
  }

  /** For label-less counters. */
  inc(amount = 1): void {
    this.labels().inc(amount);
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: s.labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(config: { name: string; help: string; labelNames?: readonly string[]; buckets: readonly number[]; registers?: Registry[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected make(labels: LabelMap): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  /** For label-less histograms. */
  observe(value: number): void {
    this.labels().observe(value);
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ value: cumulative, labels: { ...s.labels, le: String(this.bounds[i]) }, metricName: bucketName });
      }
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: bucketName });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Hands a scraped gauge its series: one call per series, label values in labelNames order. */
export type GaugeEmit = (value: number, ...labelValues: string[]) => void;

/**
 * A gauge read from its source at scrape time and held nowhere in between. For a gauge with a
 * series per caller account: prom-client keeps a child per label set (with five bound methods),
 * ~1 KiB each, 10 MiB of live heap for 10 000 accounts; this keeps nothing.
 */
export class ScrapedGauge {
  readonly name: string;
  readonly help: string;
  readonly type = 'gauge' as const;
  readonly aggregator = 'sum' as const;
  private readonly labelNames: readonly string[];
  private source: ((emit: GaugeEmit) => void) | null = null;

  constructor(config: { name: string; help: string; labelNames?: readonly string[]; registers?: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    for (const registry of config.registers ?? []) registry.registerMetric(this as unknown as Metric);
  }

  /** Where the series come from (the last one set wins); none: no series. */
  readFrom(source: ((emit: GaugeEmit) => void) | null): void {
    this.source = source;
  }

  async get(): Promise<Exposed> {
    const values: ExposedValue[] = [];
    this.source?.((value, ...labelValues) => values.push({ value, labels: labelMap(this.labelNames, labelValues) }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
