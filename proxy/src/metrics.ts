// Every metric sluice exports, defined once (SPEC §6). Label values are bounded: account ids come
// from the rules (plus 'unknown'), classes, clusters, reasons and rule names likewise; never a
// member id or a raw path. Callers cache label children at compile time, not per request.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram, ScrapedGauge } from './hot-metrics.ts';

/** What the adaptive-limit gauges show for one cluster, read at scrape time. */
export interface AdaptiveGaugeSource {
  readonly limit: number;
  readonly inflight: number;
  readonly noloadMs: number;
  readonly minLimit: number;
}

/** One endpoint's active health, read at scrape time for sluice_endpoint_healthy. */
export interface EndpointHealthState {
  readonly cluster: string;
  readonly endpoint: string;
  readonly healthy: boolean;
}

export class Metrics {
  readonly registry: Registry;
  // Request-path metrics: plain numbers per label set, read by prom-client at scrape time.
  readonly requests: HotCounter;
  readonly rejections: HotCounter;
  readonly upstreamDuration: HotHistogram;
  readonly overhead: HotHistogram;
  readonly breakerState: Gauge<'breaker' | 'cluster'>;
  readonly hotKeysTracked: Gauge<'rule'>;
  readonly offScenario: HotCounter;
  readonly reloads: HotCounter;
  readonly rulesInfo: Gauge<'version'>;
  readonly storeUp: Gauge;
  readonly globalAdmittedRatio: Gauge<'class'>;
  readonly shadowRejections: HotCounter;
  readonly adaptiveLimit: Gauge<'cluster'>;
  readonly adaptiveInflight: Gauge<'cluster'>;
  readonly adaptiveMinRtt: Gauge<'cluster'>;
  readonly adaptiveMinLimit: Gauge<'cluster'>;
  /** The adaptive limits of the policy in force, by cluster (set at each compile). */
  private adaptiveSources: ReadonlyMap<string, AdaptiveGaugeSource> = new Map();
  readonly accountIdentities: ScrapedGauge;
  readonly endpointHealthy: Gauge<'cluster' | 'endpoint'>;
  readonly retries: HotCounter;
  readonly faultsInjected: HotCounter;
  /** The endpoints of the clusters in force; set by the sidecar once it has a policy source. */
  endpointStates: () => Iterable<EndpointHealthState> = () => [];
  readonly splitRequests: HotCounter;
  readonly mirrorRequests: HotCounter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges exported under a counter's `_total` suffix, which `promtool check metrics` rejects;
      // the same numbers stay available as nodejs_active_handles / _requests / _resources.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
    }
    this.requests = new HotCounter({
      name: 'sluice_requests_total',
      help: 'Requests answered, by caller account, class, upstream cluster and status code.',
      labelNames: ['account', 'class', 'cluster', 'code'] as const,
      registers,
    });
    this.rejections = new HotCounter({
      name: 'sluice_rejections_total',
      help: 'Requests refused by sluice, by caller account, class and reason.',
      labelNames: ['account', 'class', 'reason'] as const,
      registers,
    });
    this.upstreamDuration = new HotHistogram({
      name: 'sluice_upstream_duration_seconds',
      help: 'Upstream response time (to response headers), by cluster and class.',
      labelNames: ['cluster', 'class'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.overhead = new HotHistogram({
      name: 'sluice_overhead_seconds',
      help: 'Time spent in sluice itself per request (guards and dispatch), excluding the upstream.',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'sluice_breaker_state',
      help: 'Breaker state per degrade rule and cluster: 0 closed, 1 open, 2 half-open.',
      labelNames: ['breaker', 'cluster'] as const,
      registers,
    });
    this.hotKeysTracked = new Gauge({
      name: 'sluice_hot_keys_tracked',
      help: 'Distinct key values held per hot-key rule (at most its track; keys whose TAT passed are kept for their return until room is needed).',
      labelNames: ['rule'] as const,
      registers,
    });
    this.offScenario = new HotCounter({
      name: 'sluice_off_scenario_requests_total',
      help: 'Requests outside the routes registered for the caller account.',
      labelNames: ['account'] as const,
      registers,
    });
    this.reloads = new HotCounter({
      name: 'sluice_rules_reloads_total',
      help: 'Rules loads by result.',
      labelNames: ['result'] as const,
      registers,
    });
    this.rulesInfo = new Gauge({
      name: 'sluice_rules_info',
      help: 'Version hash of the rules in force (value 1).',
      labelNames: ['version'] as const,
      registers,
    });
    this.storeUp = new Gauge({
      name: 'sluice_store_up',
      help: '1 while the shared counter store is reachable (always 1 for the memory store).',
      registers,
    });
    this.globalAdmittedRatio = new Gauge({
      name: 'sluice_global_admitted_ratio',
      help: 'Share of the global cap admitted in the last second, per class.',
      labelNames: ['class'] as const,
      registers,
    });
    this.shadowRejections = new HotCounter({
      name: 'sluice_shadow_rejections_total',
      help: 'Requests a shadow rule would have refused (admitted anyway), by account, class and reason.',
      labelNames: ['account', 'class', 'reason'] as const,
      registers,
    });
    // Adaptive limits change per request: read from the controllers when scraped, never set per request.
    const adaptiveGauge = (name: string, help: string, read: (source: AdaptiveGaugeSource) => number): Gauge<'cluster'> => {
      const gauge: Gauge<'cluster'> = new Gauge({
        name,
        help,
        labelNames: ['cluster'] as const,
        registers,
        collect: () => {
          gauge.reset();
          for (const [cluster, source] of this.adaptiveSources) gauge.labels(cluster).set(read(source));
        },
      });
      return gauge;
    };
    this.adaptiveLimit = adaptiveGauge('sluice_adaptive_limit', 'Adaptive concurrency limit L per cluster.', (s) => s.limit);
    this.adaptiveInflight = adaptiveGauge(
      'sluice_adaptive_inflight',
      'Requests in flight to the cluster from this sidecar, as the adaptive limit counts them.',
      (s) => s.inflight,
    );
    this.adaptiveMinRtt = adaptiveGauge(
      'sluice_adaptive_min_rtt_seconds',
      'No-load latency the adaptive limit of the cluster compares against (0 until learned).',
      (s) => s.noloadMs / 1000,
    );
    // The floor the limit cannot go below: "pinned at min_limit" is limit <= this.
    this.adaptiveMinLimit = adaptiveGauge('sluice_adaptive_min_limit', 'min_limit of the adaptive limit per cluster.', (s) => s.minLimit);
    // Read from the ledger at scrape time: a series per registered account, held nowhere.
    this.accountIdentities = new ScrapedGauge({
      name: 'sluice_account_identities',
      help: 'Distinct calling identities (callers.identity) seen today per caller account (fleet-wide with a shared store).',
      labelNames: ['account'] as const,
      registers,
    });
    const endpointStates = (): Iterable<EndpointHealthState> => this.endpointStates();
    const endpointHealthy: Gauge<'cluster' | 'endpoint'> = new Gauge({
      name: 'sluice_endpoint_healthy',
      help: 'Active health of each upstream endpoint: 1 in rotation, 0 out after failed health checks.',
      labelNames: ['cluster', 'endpoint'] as const,
      registers,
      collect() {
        // Read from the clusters in force at scrape time: a removed cluster's endpoints disappear.
        endpointHealthy.reset();
        for (const state of endpointStates()) endpointHealthy.labels(state.cluster, state.endpoint).set(state.healthy ? 1 : 0);
      },
    });
    this.endpointHealthy = endpointHealthy;
    this.retries = new HotCounter({
      name: 'sluice_retries_total',
      help: 'Retries of failed upstream attempts, by cluster and result (sent, budget_exhausted).',
      labelNames: ['cluster', 'result'] as const,
      registers,
    });
    this.faultsInjected = new HotCounter({
      name: 'sluice_faults_injected_total',
      help: 'Faults injected by chaos drills, by drill name and kind (delay, abort).',
      labelNames: ['fault', 'kind'] as const,
      registers,
    });
    this.splitRequests = new HotCounter({
      name: 'sluice_split_requests_total',
      help: "Requests of a class with a split, by the cluster the split chose (the class's own or the split target).",
      labelNames: ['class', 'cluster'] as const,
      registers,
    });
    this.mirrorRequests = new HotCounter({
      name: 'sluice_mirror_requests_total',
      help: 'Mirrored copies by result: match, mismatch (answers differ), error (either side failed), dropped (max_in_flight).',
      labelNames: ['mirror', 'result'] as const,
      registers,
    });
    // Both results exported at 0 from the start: the first failure must be an increase (alerts
    // use increase()), not the appearance of a new series.
    this.reloads.labels('success');
    this.reloads.labels('failure');
    this.storeUp.set(1);
  }

  /** The adaptive limits now in force, by cluster: what the sluice_adaptive_* gauges show. */
  showAdaptive(sources: ReadonlyMap<string, AdaptiveGaugeSource>): void {
    this.adaptiveSources = sources;
  }
}
