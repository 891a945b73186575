// How bucket keys become Redis keys, and why the hash tags are what they are.
//
// A Lua script may only touch keys of one Redis Cluster slot, and the slot comes from the key's
// hash tag (the part between the first `{` and the next `}`). So:
// - a bucket key without a tag gets its whole key as tag: `acct:order-center` is stored at
//   `sluice:{acct:order-center}`, and accounts spread over the cluster's masters;
// - buckets that must be taken together, all or none, in one script carry the same tag in their
//   keys: the global cap's total bucket and its class buckets are `{global}:total` and
//   `{global}:class:marketing`, stored at `sluice:{global}:total` and so on, on one master.
// A take over several buckets whose tags differ is refused when it is prepared (a rules
// compilation bug, not a runtime condition).

const PREFIX = 'sluice:';

/** The hash tag Redis Cluster would hash for `key`, or null when it has none. */
export function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return null;
  return key.slice(open + 1, close);
}

/** Redis key for a bucket key: the bucket's own tag, or the whole key as tag. */
export function redisKey(bucketKey: string): string {
  return hashTag(bucketKey) === null ? `${PREFIX}{${bucketKey}}` : PREFIX + bucketKey;
}

/** A bucket key in the group `tag`: buckets taken together share one tag. */
export function taggedKey(tag: string, name: string): string {
  return `{${tag}}:${name}`;
}
