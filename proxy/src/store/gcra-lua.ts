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
 * A batch of takes, each all or none over its own buckets, run in order as if one by one.
 * KEYS: the buckets of every take, in order. ARGV[1]: the number of takes; then per take its
 * bucket count n and n pairs (interval, tolerance). Answers per take 0, or the microseconds until
 * all its buckets would have room (finer than ms: at high rates a rounded-up millisecond is a
 * large part of an interval).
 */
export const TAKE_BATCH_LUA = `${CLOCK}
local out = {}
local k = 1
local a = 2
local tats = {}
for t = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local wait = 0
  for i = 0, n - 1 do
    local v = redis.call('GET', KEYS[k + i])
    local tat = v and tonumber(v) or now
    if tat < now then tat = now end
    local allow_at = tat - tonumber(ARGV[a + 2 * i + 1])
    if allow_at - now > wait then wait = allow_at - now end
    tats[i] = tat + tonumber(ARGV[a + 2 * i])
  end
  if wait > 0 then
    out[t] = math.ceil(wait * 1000)
  else
    for i = 0, n - 1 do
      redis.call('SET', KEYS[k + i], string.format('%.17g', tats[i]), 'PX', math.ceil(tats[i] - now))
    end
    out[t] = 0
  end
  k = k + n
  a = a + 2 * n
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
