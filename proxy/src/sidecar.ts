// One sidecar process's parts, assembled: rules reloader and watcher, counter store, listener,
// admin API. `sluice start`, the demo and the end-to-end tests all run this.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AdminServer, isLoopback, type AdminSources } from './admin/admin-server.ts';
import { adminViews } from './admin/views.ts';
import { Ledger } from './accounts/ledger.ts';
import { UsageRegistry } from './accounts/usage.ts';
import { systemClock, type Clock } from './clock.ts';
import { compilePolicy } from './compile.ts';
import { applyEdgeLimits } from './edge-answers.ts';
import { Metrics, type EndpointHealthState } from './metrics.ts';
import type { Policy } from './policy.ts';
import { RulesReloader } from './rules/reloader.ts';
import type { StoreRules, TracingRules } from './rules/types.ts';
import { RulesWatcher } from './rules/watch.ts';
import { SidecarServer } from './server.ts';
import { loadRequestTracer, type RequestTracer } from './tracing/request-tracer.ts';
import { accessLogFromEnv } from './access-log.ts';
import { StateRegistry } from './state-registry.ts';
import { createStore } from './store/create-store.ts';
import type { CounterStore } from './store/store.ts';
import type { SwitchBus } from './store/switch-bus.ts';
import type { FaultBus } from './store/fault-bus.ts';
import { openFleetLinks } from './store/fleet-links.ts';
import { faultAdmin } from './faults/fault-admin.ts';
import { FaultState } from './faults/fault-state.ts';
import { parseSwitchBody, SwitchState } from './upstream/switch-state.ts';

/** Longest wait at start for a shared store's first answer. */
const STORE_CONNECT_WAIT_MS = 2000;

export interface SidecarOptions {
  /** Rules file or directory. */
  readonly rules: string;
  /** HOST:PORT overrides for the rules' server section (flags or environment). */
  readonly listen?: string;
  readonly admin?: string;
  /** Redis URL: overrides the rules' store with `kind: redis`. */
  readonly redis?: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Watcher timings (tests use short ones). */
  readonly pollMs?: number;
  readonly debounceMs?: number;
}

/** The first load failed: nothing to run with. */
export class RulesRefusedError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems[0] ?? 'rules refused');
    this.problems = problems;
  }
}

export function splitHostPort(value: string, what: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${what}: expected HOST:PORT, got '${value}'`);
  }
  return { host, port };
}

export class Sidecar {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly reloader: RulesReloader<Policy>;
  readonly server: SidecarServer;
  readonly admin: AdminServer;
  readonly store: CounterStore;
  readonly usage: UsageRegistry;
  readonly ledger: Ledger;
  readonly switchState: SwitchState;
  readonly instanceId: string;
  readonly tracer: RequestTracer | null;
  private readonly watcher: RulesWatcher;
  private readonly switchBus: SwitchBus | null;
  private readonly faultState: FaultState;
  private readonly faultBus: FaultBus | null;
  private readonly onHangup: () => void;

  private constructor(parts: {
    metrics: Metrics;
    log: Logger;
    reloader: RulesReloader<Policy>;
    server: SidecarServer;
    admin: AdminServer;
    store: CounterStore;
    usage: UsageRegistry;
    ledger: Ledger;
    switchState: SwitchState;
    watcher: RulesWatcher;
    switchBus: SwitchBus | null;
    instanceId: string;
    faultState: FaultState;
    faultBus: FaultBus | null;
    tracer: RequestTracer | null;
  }) {
    this.metrics = parts.metrics;
    this.log = parts.log;
    this.reloader = parts.reloader;
    this.server = parts.server;
    this.admin = parts.admin;
    this.store = parts.store;
    this.usage = parts.usage;
    this.ledger = parts.ledger;
    this.switchState = parts.switchState;
    this.watcher = parts.watcher;
    this.switchBus = parts.switchBus;
    this.instanceId = parts.instanceId;
    this.faultState = parts.faultState;
    this.faultBus = parts.faultBus;
    this.tracer = parts.tracer;
    this.onHangup = () => {
      this.log.info({ event: 'sighup' }, 'SIGHUP: reloading rules');
      void this.reloader.check(true);
    };
  }

  static async start(options: SidecarOptions): Promise<Sidecar> {
    const log = options.log;
    const clock = options.clock ?? systemClock;
    const metrics = new Metrics();
    const registry = new StateRegistry();
    const switchState = new SwitchState();
    // An admin drill started, stopped, received or ended: rebuild the policy with the drills now.
    const faultState = new FaultState(() => reloader.recompile());
    // Usage seconds fall on wall seconds, which the sidecars of a fleet agree on.
    const usage = new UsageRegistry(clock, { wallOffsetMs: clock === systemClock ? performance.timeOrigin : Date.now() - clock.now() });
    const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

    // The store is chosen once, from the first good rules (and --redis): counters cannot move
    // between stores under load. A later change of `store` is reported and needs a restart.
    let store: CounterStore | null = null;
    // The listener, once made: a reload puts its edge limits (headers timeout and count) on it.
    let listener: SidecarServer | null = null;
    const chosen: { rules: StoreRules | null; tracing: TracingRules | null } = { rules: null, tracing: null };
    const reloader: RulesReloader<Policy> = new RulesReloader(
      options.rules,
      (loaded) => {
        if (store !== null && chosen.rules !== null && !options.redis && !sameStore(chosen.rules, loaded.rules.store)) {
          log.warn({ event: 'store_change_ignored', store: loaded.rules.store.kind }, 'the store section changed: counters stay where they are until a restart');
        }
        if (store !== null && JSON.stringify(chosen.tracing) !== JSON.stringify(loaded.rules.tracing)) {
          log.warn({ event: 'tracing_change_ignored' }, 'the tracing section changed: it takes effect at the next restart');
        }
        if (store === null) {
          chosen.tracing = loaded.rules.tracing;
          const storeRules: StoreRules = options.redis
            ? { ...loaded.rules.store, kind: 'redis', url: options.redis }
            : loaded.rules.store;
          chosen.rules = storeRules;
          store = createStore(storeRules, {
            clock,
            onUpChange: (up) => {
              metrics.storeUp.set(up ? 1 : 0);
              if (up) storeAnswered();
              const fallback = storeRules.onFailure === 'reject' ? 'answering 503 store_unavailable' : 'enforcing locally';
              if (up) log.info({ event: 'store_up', store: storeRules.kind }, 'counter store reachable: shared limits in force');
              else log.warn({ event: 'store_down', store: storeRules.kind }, `counter store unreachable: ${fallback}`);
            },
          });
          // A shared store counts as down until it first answers.
          metrics.storeUp.set(store.up ? 1 : 0);
        }
        if (listener !== null) applyEdgeLimits(listener.server, loaded.rules.server);
        return compilePolicy(loaded, {
          metrics,
          registry,
          clock,
          store,
          usage,
          switchState,
          onBreakerTransition: (breaker, from, to, why) =>
            log.warn({ event: 'breaker_transition', breaker: breaker.name, cluster: breaker.cluster, from, to, why }, `breaker ${breaker.name} (${breaker.cluster}): ${from} → ${to}: ${why}`),
          faults: faultState,
          onEndpointHealth: (cluster, endpoint, healthy) =>
            log.warn({ event: 'endpoint_health', cluster, endpoint, healthy }, `endpoint ${endpoint} (${cluster}) ${healthy ? 'back in rotation' : 'out of rotation: health checks failed'}`),
          onMirrorMismatch: (mirror, sample, suppressed) =>
            log.warn(
              { event: 'mirror_mismatch', mirror, ...sample, suppressed },
              `mirror ${mirror}: ${sample.method} ${sample.route} differs (${sample.compared}${sample.paths.length === 0 ? '' : `: ${sample.paths.join(', ')}`})`,
            ),
        });
      },
      log,
      metrics,
    );
    let storeAnswered: () => void = () => {};
    const storeReady = new Promise<void>((resolve) => (storeAnswered = resolve));
    await reloader.check(true);
    const loaded = reloader.loaded;
    if (loaded === null || store === null) throw new RulesRefusedError(reloader.lastError?.errors ?? ['rules refused']);
    const sharedStore: CounterStore = store;
    const opened: (() => unknown)[] = [() => sharedStore.close(), () => closeClusters(reloader.current)];
    try {
      // Give a shared store a moment to connect, so the first requests are counted fleet-wide;
      // a store that stays away is no reason not to serve (the fallback governs meanwhile).
      if (sharedStore.kind !== 'memory' && !sharedStore.up) {
        const waited = await Promise.race([storeReady.then(() => true), delay(STORE_CONNECT_WAIT_MS, false, { ref: false })]);
        if (!waited) log.warn({ event: 'store_down', store: sharedStore.kind }, `counter store not reachable after ${STORE_CONNECT_WAIT_MS} ms: starting with the fallback`);
      }

      // Tracing is read once, at start; the SDK is not even loaded when the rules have none.
      const tracingRules = loaded.rules.tracing;
      const tracer = tracingRules === null ? null : await loadRequestTracer(tracingRules, log);
      if (tracer !== null) opened.push(() => tracer.shutdown());
      const server = new SidecarServer(reloader, metrics, log, accessLogFromEnv(log), tracer);
      applyEdgeLimits(server.server, loaded.rules.server);
      listener = server;
      opened.push(() => server.drain(0));
      const links = await openFleetLinks(chosen.rules, instanceId);
      const switchBus = links?.switchBus ?? null;
      if (switchBus !== null) opened.push(() => switchBus.close());
      const faultBus = links?.faultBus ?? null;
      if (faultBus !== null) opened.push(() => faultBus.close());
      // The ledger closes its sink once made; until then a failed start must close it here.
      if (links !== null) opened.push(() => links.ledgerSink.close());
      opened.push(() => faultState.close());

      const adminToken = process.env[loaded.rules.server.adminTokenEnv ?? 'SLUICE_ADMIN_TOKEN'] ?? null;
      const adminAddress = splitHostPort(options.admin ?? loaded.rules.server.admin, 'admin address');
      if (!isLoopback(adminAddress.host) && !adminToken) {
        throw new Error(
          `admin address ${adminAddress.host} is not loopback: set ${loaded.rules.server.adminTokenEnv ?? 'SLUICE_ADMIN_TOKEN'} to a bearer token`,
        );
      }
      const ledger = new Ledger(usage, {
        sink: links?.ledgerSink ?? null,
        identitiesGauge: metrics.accountIdentities,
      });
      opened.push(() => ledger.close());
      metrics.endpointStates = () => endpointStates(reloader.current);
      const sidecarRef: { current: Sidecar | null } = { current: null };
      const drills = faultAdmin({ state: faultState, current: () => reloader.current, bus: faultBus, log, instanceId });
      const views: AdminSources = adminViews({
        registry: metrics.registry,
        reloader,
        usage,
        ledger,
        switchState,
        store: sharedStore,
        ready: () => reloader.current !== null && sidecarRef.current !== null,
        applySwitch: (map) => sidecarRef.current?.applySwitch(map, 'admin', instanceId) ?? null,
        parseSwitch: (body) => parseSwitchBody(body, new Set(reloader.loaded?.rules.clusters.keys() ?? [])),
      });
      const sources: AdminSources = { ...views, ...drills };
      const admin = new AdminServer(sources, isLoopback(adminAddress.host) ? null : adminToken, loaded.rules.server.metricsPublic);
      opened.push(() => admin.close());
      const watcher = new RulesWatcher(options.rules, () => void reloader.check(), {
        pollMs: options.pollMs,
        debounceMs: options.debounceMs,
      });
      opened.push(() => watcher.close());

      const sidecar = new Sidecar({ metrics, log, reloader, server, admin, store: sharedStore, usage, ledger, switchState, watcher, switchBus, instanceId, tracer, faultState, faultBus });
      const listen = splitHostPort(options.listen ?? loaded.rules.server.listen, 'listen address');
      await server.listen(listen.host, listen.port);
      await admin.listen(adminAddress.host, adminAddress.port);
      await watcher.start();
      ledger.start();
      // An empty map is a cleared switch.
      switchBus?.subscribe((map, origin) => {
        const entries = Object.entries(map);
        sidecar.applySwitch(entries.length === 0 ? null : new Map(entries), 'fleet', origin);
      });
      faultBus?.subscribe((received, origin) => {
        log.warn({ event: 'drills_received', faults: received.map((drill) => drill.fault.name), origin }, `admin drills from ${origin}: ${received.map((drill) => drill.fault.name).join(', ') || 'none'}`);
        faultState.replace(received);
      });
      process.on('SIGHUP', sidecar.onHangup);
      sidecarRef.current = sidecar;
      log.info(
        { event: 'started', listen: `${listen.host}:${server.port}`, admin: `${adminAddress.host}:${sidecar.adminPort}`, store: sharedStore.kind, instance: instanceId },
        `sluice listening on ${listen.host}:${server.port}, admin on ${adminAddress.host}:${sidecar.adminPort}, ${sharedStore.kind} store`,
      );
      return sidecar;
    } catch (error) {
      // A port taken, a bad address: close what was opened so the process can exit.
      for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => {});
      throw error;
    }
  }

  /** Applies an emergency switch (null clears it) and recompiles the policy in force. */
  applySwitch(map: ReadonlyMap<string, string> | null, source: 'admin' | 'fleet', instance: string): string | null {
    const origin = { source, instance, at: new Date().toISOString() };
    if (map === null) this.switchState.clear(origin);
    else this.switchState.set(map, origin);
    this.reloader.recompile();
    const shown = map === null ? {} : Object.fromEntries(map);
    this.log.warn({ event: 'switch', switch: shown, source, instance }, `switch ${map === null ? 'cleared' : JSON.stringify(shown)} (${source} from ${instance})`);
    if (source === 'admin' && this.switchBus !== null) {
      this.switchBus.publish(shown).catch((error: unknown) =>
        this.log.error({ event: 'switch_broadcast_failed', error: String(error) }, 'switch applied here but not broadcast: store unreachable'),
      );
    }
    return null;
  }

  get dataPort(): number {
    return this.server.port;
  }

  get adminPort(): number {
    const address = this.admin.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Graceful stop: no new requests, in-flight ones finish (up to `deadlineMs`), then close all. */
  async stop(deadlineMs = 30_000): Promise<void> {
    process.off('SIGHUP', this.onHangup);
    this.watcher.close();
    await this.server.drain(deadlineMs);
    await this.admin.close();
    await this.ledger.close();
    await this.switchBus?.close();
    this.faultState.close();
    await this.faultBus?.close();
    await closeClusters(this.reloader.current);
    await this.store.close();
    await this.tracer?.shutdown();
  }
}

function* endpointStates(policy: Policy | null): Iterable<EndpointHealthState> {
  for (const cluster of policy?.clusters.values() ?? []) {
    for (const endpoint of cluster.endpoints) yield { cluster: cluster.name, endpoint: endpoint.url, healthy: endpoint.healthy };
  }
}

async function closeClusters(policy: Policy | null): Promise<void> {
  for (const cluster of policy?.clusters.values() ?? []) await cluster.close();
}

function sameStore(a: StoreRules, b: StoreRules): boolean {
  return a.kind === b.kind && a.url === b.url && a.nodes.join(',') === b.nodes.join(',');
}
