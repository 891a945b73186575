// Which endpoint of a cluster takes the next exchange. round_robin walks the endpoints in order;
// least_request takes two endpoints at random and sends to the one with fewer exchanges in flight
// (power of two random choices: nearly as good as the global minimum, with no scan and no herd
// onto one endpoint). Both skip endpoints out of rotation; neither allocates.
import type { BalanceKind } from '../rules/types.ts';
import type { EndpointPool } from './endpoint-pool.ts';

export interface Balancer {
  /**
   * An available endpoint other than `exclude` (null: any), or null when there is none.
   * `panic`: every endpoint failed its health checks, so health is ignored.
   */
  pick(endpoints: readonly EndpointPool[], now: number, panic: boolean, exclude: EndpointPool | null): EndpointPool | null;
}

export class RoundRobinBalancer implements Balancer {
  private cursor = 0;

  pick(endpoints: readonly EndpointPool[], now: number, panic: boolean, exclude: EndpointPool | null): EndpointPool | null {
    const count = endpoints.length;
    for (let i = 0; i < count; i++) {
      const endpoint = endpoints[this.cursor];
      this.cursor = this.cursor + 1 === count ? 0 : this.cursor + 1;
      if (endpoint !== exclude && endpoint.isAvailable(now, panic)) return endpoint;
    }
    return null;
  }
}

export class LeastRequestBalancer implements Balancer {
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  pick(endpoints: readonly EndpointPool[], now: number, panic: boolean, exclude: EndpointPool | null): EndpointPool | null {
    const count = endpoints.length;
    if (count === 1) {
      const only = endpoints[0];
      return only !== exclude && only.isAvailable(now, panic) ? only : null;
    }
    const i = Math.floor(this.random() * count);
    let j = Math.floor(this.random() * (count - 1));
    if (j >= i) j++;
    const a = endpoints[i];
    const b = endpoints[j];
    const aOk = a !== exclude && a.isAvailable(now, panic);
    const bOk = b !== exclude && b.isAvailable(now, panic);
    if (aOk && bOk) return b.inFlight < a.inFlight ? b : a;
    if (aOk) return a;
    if (bOk) return b;
    // Both draws were out of rotation: the fewest in flight among the rest.
    let best: EndpointPool | null = null;
    for (let k = 0; k < count; k++) {
      const endpoint = endpoints[k];
      if (endpoint === exclude || !endpoint.isAvailable(now, panic)) continue;
      if (best === null || endpoint.inFlight < best.inFlight) best = endpoint;
    }
    return best;
  }
}

export function createBalancer(kind: BalanceKind): Balancer {
  return kind === 'least_request' ? new LeastRequestBalancer() : new RoundRobinBalancer();
}
