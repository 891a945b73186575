// One string hash for the places that need a stable, well-spread 32-bit value of a text: the
// split's sticky buckets and the in-process HyperLogLog. Stable across processes and versions:
// changing it would move sticky ids between clusters mid-migration (pinned by the split tests).

/** FNV-1a over UTF-16 code units, then murmur3's finalizer so neighbouring ids land far apart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
