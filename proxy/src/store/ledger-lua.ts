// One account's ledger batch, written atomically in its hash-tag slot. KEYS: day hash, routes,
// ids, hll, then one per-second key per second of the batch. ARGV: ttl, requests, off_scenario,
// first_seen, last_seen, then counted lists (n, name, count ...) of rejections, routes and
// identities, then the per-second counts. Answers the day's distinct identities (PFCOUNT).
export const LEDGER_WRITE_LUA = `
local ttl = tonumber(ARGV[1])
local day, routes, ids, hll = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
redis.call('HINCRBY', day, 'requests', ARGV[2])
redis.call('HINCRBY', day, 'off_scenario', ARGV[3])
local first = tonumber(ARGV[4])
local f = tonumber(redis.call('HGET', day, 'first_seen') or '')
if first >= 0 and (not f or first < f) then redis.call('HSET', day, 'first_seen', ARGV[4]) end
local last = tonumber(ARGV[5])
local l = tonumber(redis.call('HGET', day, 'last_seen') or '')
if not l or last > l then redis.call('HSET', day, 'last_seen', ARGV[5]) end
local a = 6
local n = tonumber(ARGV[a]); a = a + 1
for i = 1, n do redis.call('HINCRBY', day, 'rej:' .. ARGV[a], ARGV[a + 1]); a = a + 2 end
n = tonumber(ARGV[a]); a = a + 1
for i = 1, n do redis.call('ZINCRBY', routes, ARGV[a + 1], ARGV[a]); a = a + 2 end
n = tonumber(ARGV[a]); a = a + 1
if n > 0 then
  local members = {}
  for i = 1, n do
    redis.call('ZINCRBY', ids, ARGV[a + 1], ARGV[a])
    members[i] = ARGV[a]
    a = a + 2
  end
  redis.call('PFADD', hll, unpack(members))
  redis.call('ZREMRANGEBYRANK', ids, 0, -101)
end
local peak = tonumber(redis.call('HGET', day, 'peak') or '0')
for k = 5, #KEYS do
  local v = redis.call('INCRBY', KEYS[k], ARGV[a])
  redis.call('EXPIRE', KEYS[k], 120)
  if v > peak then peak = v end
  a = a + 1
end
redis.call('HSET', day, 'peak', peak)
for k = 1, 4 do if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('EXPIRE', KEYS[k], ttl) end end
return redis.call('PFCOUNT', hll)
`;
