// The compiled `mirrors` (SPEC §12): for each cluster copied from, the mirror that picks which of
// its requests are copied and sends the copies. Built once per policy; what must outlive a reload
// (copies in flight, counts, last mismatches) is the mirror's MirrorState from the registry.
// A request is copied only when its method is listed, it carries no body (the caller's body
// streams once, to the caller's upstream), it falls in `percent`, and fewer than max_in_flight
// copies are outstanding; otherwise it is counted as dropped, never queued.
import type { IncomingMessage } from 'node:http';
import type { HotCounter } from '../hot-metrics.ts';
import type { MirrorRules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import type { UpstreamCluster } from './cluster.ts';
import { MirrorExchange, type MirrorSink } from './mirror-exchange.ts';
import { MirrorState, type MismatchLog, type MismatchSample } from './mirror-state.ts';
import { buildRequestHead } from './request-head.ts';
import { SPLIT_SCALE } from './split.ts';

/** What a mirror reads of a request; the request context satisfies it. */
export interface MirroredRequest {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly remoteAddress: string;
}

/** Header naming the mirror on every copy, so the candidate can tell copies from real traffic. */
export const MIRROR_HEADER = 'x-sluice-mirror';

export class Mirror implements MirrorSink {
  readonly rules: MirrorRules;
  readonly state: MirrorState;
  private readonly target: UpstreamCluster;
  private readonly methods: ReadonlySet<string>;
  private readonly compare: { readonly ignore: ReadonlySet<string> };
  private readonly threshold: number;
  private readonly log: MismatchLog | null;
  private carry: number;

  constructor(rules: MirrorRules, state: MirrorState, target: UpstreamCluster, log: MismatchLog | null) {
    this.rules = rules;
    this.state = state;
    this.target = target;
    this.methods = new Set(rules.methods);
    this.compare = Object.freeze({ ignore: new Set(rules.ignore) });
    this.threshold = Math.round(rules.percent * 100);
    this.log = log;
    this.carry = 0;
  }

  /**
   * The copy of this request, ready to send once the request itself is on its way, or null when
   * it is not copied. The caller's exchange must report its answer to the returned tap.
   */
  prepare(request: MirroredRequest): MirrorExchange | null {
    if (!this.methods.has(request.method)) return null;
    const headers = request.req.headers;
    if (headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')) {
      return null;
    }
    this.carry += this.threshold;
    if (this.carry < SPLIT_SCALE) return null;
    this.carry -= SPLIT_SCALE;
    const state = this.state;
    if (state.inFlight >= this.rules.maxInFlight) {
      state.count('dropped');
      return null;
    }
    state.inFlight++;
    const head = { headers: [] as string[], hasBody: false };
    buildRequestHead(request.req.rawHeaders, request.remoteAddress, head);
    head.headers.push(MIRROR_HEADER, this.rules.name);
    return new MirrorExchange(request.method, request.url, request.path, head.headers, this.target.rules.timeoutMs, this, this.compare);
  }

  /** Sends a prepared copy to the mirror's cluster. */
  send(exchange: MirrorExchange): void {
    exchange.send(this.target.pick());
  }

  copyFinished(): void {
    this.state.inFlight--;
  }

  matched(): void {
    this.state.count('match');
  }

  failed(): void {
    this.state.count('error');
  }

  mismatched(sample: MismatchSample): void {
    this.state.mismatch(sample, performance.now(), this.log);
  }
}

export class MirrorTable {
  /** By the cluster copied from (one mirror per cluster). */
  readonly byCluster: ReadonlyMap<string, Mirror>;
  readonly mirrors: readonly Mirror[];

  constructor(mirrors: readonly Mirror[]) {
    this.mirrors = mirrors;
    this.byCluster = new Map(mirrors.map((mirror) => [mirror.rules.from, mirror]));
  }

  /** GET /admin/mirrors. */
  describe(): unknown {
    return {
      mirrors: this.mirrors.map((mirror) => ({
        name: mirror.rules.name,
        from: mirror.rules.from,
        to: mirror.rules.to,
        percent: mirror.rules.percent,
        max_in_flight: mirror.rules.maxInFlight,
        ...mirror.state.describe(),
      })),
    };
  }
}

export interface MirrorDeps {
  readonly counter: HotCounter;
  readonly registry: StateRegistry;
  readonly clusters: ReadonlyMap<string, UpstreamCluster>;
  readonly log: MismatchLog | null;
}

/** The policy's mirrors, or null when none are configured (absent from the request path). */
export function compileMirrors(rules: readonly MirrorRules[] | undefined, deps: MirrorDeps): MirrorTable | null {
  if (rules === undefined || rules.length === 0) return null;
  const mirrors: Mirror[] = [];
  for (const mirror of rules) {
    const target = deps.clusters.get(mirror.to);
    if (target === undefined) throw new Error(`mirror ${mirror.name}: unknown cluster '${mirror.to}'`);
    const state = deps.registry.get(`mirror:${mirror.name}:${mirror.from}:${mirror.to}`, () => new MirrorState(mirror.name, deps.counter));
    mirrors.push(new Mirror(mirror, state, target, deps.log));
  }
  return new MirrorTable(mirrors);
}
