// GCRA in Lua, run atomically by Redis over the buckets of one take.
// Each key holds the bucket's theoretical arrival time (TAT) in milliseconds since unix second 1700000000 on the
// Redis server's clock, so every sidecar judges by the same clock. Times are offset from a recent
// epoch so a double keeps sub-microsecond precision (a rate of 30000/s has a 0.033 ms interval);
// '%.17g' writes the double back exactly. Keys expire when their TAT passes: a full bucket and a
// missing key mean the same, so Redis memory holds only buckets in use.
//
// Per bucket: interval ms (1000 / rate) and tolerance ms (burst × interval).

const CLOCK = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1700000000) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * A batch of takes, each all or none over its own buckets, run in order as if one by one, each at
 * its own arrival time. The batch names each distinct bucket and each distinct bucket list once:
 * KEYS are the distinct buckets; ARGV[1] is the number of distinct lists, then per list its
 * bucket count n and n triples (key index, interval, tolerance); then the number of takes, then
 * per take its list index and its age (ms between its arrival and the batch's sending, on the
 * sidecar's clock). A take counts at Redis's time minus its age: only differences of one
 * sidecar's clock are used, so clock skew between sidecars does not matter, and the takes of a
 * batch keep their spacing instead of landing in one instant.
 * Each bucket is read once and written once per batch, with the TAT the batch left it at: the
 * takes of one account in one batch (most of a busy account's batch) cost one GET and one SET in
 * all instead of one each per take, and the sidecar sends ~2 arguments per take instead of ~8.
 * Answers per take 0, or the microseconds from its arrival until all its buckets would have room
 * (finer than ms: at high rates a rounded-up millisecond is a large part of an interval); then,
 * for the leases asked for after the takes, two numbers each (see the lease section).
 * The arithmetic is limits/gcra.ts's, line for line; both are tested on the same vectors.
 */
export const TAKE_BATCH_LUA = `${CLOCK}
local lists = {}
local a = 2
for l = 1, tonumber(ARGV[1]) do
  local list = {}
  for i = 1, tonumber(ARGV[a]) do
    list[i] = { tonumber(ARGV[a + 3 * i - 2]), tonumber(ARGV[a + 3 * i - 1]), tonumber(ARGV[a + 3 * i]) }
  end
  a = a + 1 + 3 * #list
  lists[l] = list
end
-- By key index: the bucket's TAT as this batch has left it, false when it holds none.
local tats = {}
local dirty = {}
local out = {}
local takes = tonumber(ARGV[a])
a = a + 1
for t = 1, takes do
  local list = lists[tonumber(ARGV[a])]
  local at = now - tonumber(ARGV[a + 1])
  a = a + 2
  local wait = 0
  for i = 1, #list do
    local k = list[i][1]
    if tats[k] == nil then
      local v = redis.call('GET', KEYS[k])
      tats[k] = v and tonumber(v) or false
    end
    local tat = tats[k] or at
    if tat < at then tat = at end
    local allow_at = tat - list[i][3]
    if allow_at - at > wait then wait = allow_at - at end
  end
  if wait > 0 then
    out[t] = math.ceil(wait * 1000)
  else
    for i = 1, #list do
      local k = list[i][1]
      local tat = tats[k] or at
      if tat < at then tat = at end
      tats[k] = tat + list[i][2]
      dirty[k] = true
    end
    out[t] = 0
  end
end
-- Leases (store/lease.ts), after the takes: the number of leases, then per lease its key index,
-- interval, tolerance (the share of the bucket's that leases may hold), units wanted and
-- lifetime (ms). Grants the units that all conform now to that tolerance,
-- the first placed at least \`lifetime\` ahead of now, so each stays spendable until its slot;
-- answers per lease the units granted and the first slot's lead over now in µs (rounded down).
local leases = tonumber(ARGV[a] or '0') or 0
a = a + 1
for l = 1, leases do
  local k = tonumber(ARGV[a])
  local interval = tonumber(ARGV[a + 1])
  local tolerance = tonumber(ARGV[a + 2])
  local want = tonumber(ARGV[a + 3])
  local lifetime = tonumber(ARGV[a + 4])
  a = a + 5
  if tats[k] == nil then
    local v = redis.call('GET', KEYS[k])
    tats[k] = v and tonumber(v) or false
  end
  local base = now + lifetime
  local lead = lifetime
  local tat = tats[k]
  if tat and tat > base then
    base = tat
    lead = tat - now
  end
  -- The last unit must conform now: lead + (granted - 1) × interval <= tolerance. A thousandth
  -- of an interval absorbs the rounding of times this far from the epoch (~1e-5 ms).
  local granted = math.floor((tolerance - lead) / interval + 0.001) + 1
  if granted > want then granted = want end
  if granted < 1 then
    out[takes + 2 * l - 1] = 0
    out[takes + 2 * l] = 0
  else
    tats[k] = base + granted * interval
    dirty[k] = true
    out[takes + 2 * l - 1] = granted
    out[takes + 2 * l] = math.floor((base - now) * 1000)
  end
end
for k in pairs(dirty) do
  -- An aged arrival may leave a TAT already past: kept 1 ms (a full bucket either way).
  local ttl = math.ceil(tats[k] - now)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', KEYS[k], string.format('%.17g', tats[k]), 'PX', ttl)
end
return out
`;

/** Give one unit back to every bucket; a bucket never holds more than full. */
export const GIVE_LUA = `${CLOCK}
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    local tat = tonumber(v) - tonumber(ARGV[2 * i - 1])
    if tat > now then
      redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', math.ceil(tat - now))
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return 0
`;
