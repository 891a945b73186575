// ioredis clients that never make a request wait on Redis: commands go out auto-pipelined, fail
// at once while disconnected (no offline queue), time out after a bound, are never retried, and
// the connection comes back by itself with a capped backoff.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { StoreRules } from '../rules/types.ts';

export type RedisClient = Redis | Cluster;

export interface ClientOptions {
  /** Bound on one command; a slow Redis costs a request at most this, once. */
  readonly commandTimeoutMs: number;
  /** Scripts to define on the client (ioredis sends EVALSHA, loading the script when missing). */
  readonly scripts?: Record<string, { lua: string; numberOfKeys?: number }>;
  /** Commands kept out of auto-pipelining (those that batch by themselves). */
  readonly notAutoPipelined?: readonly string[];
  /** The pub/sub subscriber must queue its SUBSCRIBE until connected; others never queue. */
  readonly offlineQueue?: boolean;
  readonly connectionName: string;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Reconnect quickly at first, then every half second at most, forever. */
function reconnectDelay(times: number): number {
  return Math.min(50 * times, 500);
}

function nodeAddress(node: string): { host: string; port: number } {
  const text = node.replace(/^rediss?:\/\//, '');
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, port: 6379 };
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

export function createRedisClient(rules: StoreRules, options: ClientOptions): RedisClient {
  const common = {
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    connectionName: options.connectionName,
  } satisfies RedisOptions;
  const offlineQueue = options.offlineQueue ?? false;
  let client: RedisClient;
  if (rules.kind === 'redis-cluster') {
    const clusterOptions: ClusterOptions = {
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: [...(options.notAutoPipelined ?? [])],
      enableOfflineQueue: offlineQueue,
      clusterRetryStrategy: reconnectDelay,
      // A redirection or a cluster-down answer is retried briefly, never for long.
      maxRedirections: 3,
      retryDelayOnFailover: 20,
      retryDelayOnClusterDown: 20,
      retryDelayOnTryAgain: 20,
      slotsRefreshTimeout: 1000,
      redisOptions: common,
    };
    client = new Cluster(rules.nodes.map(nodeAddress), clusterOptions);
  } else {
    client = new Redis(rules.url ?? DEFAULT_URL, {
      ...common,
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: [...(options.notAutoPipelined ?? [])],
      enableOfflineQueue: offlineQueue,
      retryStrategy: reconnectDelay,
    });
  }
  // Errors surface through the commands and the store's up flag; an unhandled 'error' event
  // would end the process.
  client.on('error', ignore);
  if (client instanceof Cluster) client.on('node error', ignore);
  for (const [name, script] of Object.entries(options.scripts ?? {})) {
    client.defineCommand(name, script);
  }
  return client;
}

function ignore(): void {}
