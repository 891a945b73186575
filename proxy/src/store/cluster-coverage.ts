// Whether a Redis Cluster client can serve every hash slot now. A master that died leaves its
// slots unserved until a replica takes over and the client learns the new map: the cluster still
// answers PING and CLUSTER INFO says ok for a while (until the node timeout), yet every take on
// those slots would fail after the command bound. The store counts as up only when it is whole.
import type { Cluster } from 'ioredis';

const SLOTS = 16384;

export function coversAllSlots(cluster: Cluster): boolean {
  const live = new Set<string>();
  for (const node of cluster.nodes('master')) live.add(`${node.options.host}:${node.options.port}`);
  const slots = cluster.slots;
  if (slots.length < SLOTS) return false;
  for (let slot = 0; slot < SLOTS; slot++) {
    const owners = slots[slot];
    if (owners === undefined || owners.length === 0 || !live.has(owners[0])) return false;
  }
  return true;
}
