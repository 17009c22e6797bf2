"""The one Lua script behind `gateway.limits`: admission and settlement of one key, atomically.

KEYS (all under the key's hash tag `{token_id}`, so one hash slot in Redis Cluster):
  1 inflight  ZSET request id -> lease deadline (ms)
  2 reserved  HASH request id -> "<cost estimate> <token estimate>"
  3 rpm       HASH second -> requests
  4 tpm       HASH second -> tokens
  5 spend     HASH w -> budget window id, s -> spend in that window (issue 7): DynamoDB's window
              spend when seeded plus every settled cost since, including spend still waiting in
              the spend stream. No TTL: it must never be evicted (volatile-* maxmemory policy).
"""

SCRIPT = """
local op = ARGV[1]
local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_ms = now_s * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])

local function window_sum(key)
  local entries = redis.call('HGETALL', key)
  local sum, oldest, stale = 0, nil, {}
  for i = 1, #entries, 2 do
    local second = tonumber(entries[i])
    if second <= now_s - window then
      table.insert(stale, entries[i])
    else
      sum = sum + tonumber(entries[i + 1])
      if oldest == nil or second < oldest then oldest = second end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return sum, oldest
end

local function retry_after(oldest)
  if oldest == nil then return 1 end
  return math.max(oldest + window - now_s, 1)
end

-- Is window id `mine` newer than the stored `cur`? ('none': a key without a budget window)
local function newer(mine, cur)
  if cur == false or cur == nil then return true end
  if mine == 'none' or cur == 'none' then return mine ~= cur end
  return tonumber(mine) > tonumber(cur)
end

if op == 'settle' then
  -- ARGV: op, window, request_id, tokens_used, tpm_tracked, release, cost, window_id, seed
  if ARGV[7] ~= '' then
    -- A request of an older window than the counter's (clock skew at the boundary) still adds
    -- to the newer window: DynamoDB books it by flush time, which is after the boundary too.
    if newer(ARGV[8], redis.call('HGET', KEYS[5], 'w')) then
      redis.call('HSET', KEYS[5], 'w', ARGV[8], 's', ARGV[9])
    end
    redis.call('HINCRBYFLOAT', KEYS[5], 's', ARGV[7])
  end
  if ARGV[6] ~= '1' then return {'ok', '0', '0', '0'} end
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('HDEL', KEYS[2], ARGV[3])
  local tokens = tonumber(ARGV[4])
  if ARGV[5] == '1' and tokens > 0 then
    redis.call('HINCRBY', KEYS[4], now_s, tokens)
    redis.call('EXPIRE', KEYS[4], window + 1)
  end
  local requests = window_sum(KEYS[3])
  local used = window_sum(KEYS[4])
  local reserved = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
    reserved = reserved + tonumber(string.match(v, ' (.+)$'))
  end
  return {'ok', tostring(requests), tostring(used + reserved), '0'}
end

-- admit. ARGV: op, window, request_id, lease_ms, max_budget, window_spend, cost_estimate,
--              max_parallel, rpm, tpm, token_estimate, window_id  (a limit of -1 means none)
local request_id, lease_ms = ARGV[3], tonumber(ARGV[4])
local max_budget, spend, cost = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local max_parallel, rpm, tpm = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local tokens = tonumber(ARGV[11])

-- The counter of the same window knows spend DynamoDB has not seen yet; DynamoDB's value can
-- only be higher after a synchronous fallback write (Redis was down at settle): take the max.
local counted = redis.call('HMGET', KEYS[5], 'w', 's')
if counted[1] == ARGV[12] and counted[2] then
  spend = math.max(spend, tonumber(counted[2]))
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if #expired > 0 then
  redis.call('HDEL', KEYS[2], unpack(expired))
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
end
local reserved_cost, reserved_tokens = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  local c, k = string.match(v, '^(%S+) (%S+)$')
  reserved_cost = reserved_cost + tonumber(c)
  reserved_tokens = reserved_tokens + tonumber(k)
end
local requests, oldest_request = window_sum(KEYS[3])
local used, oldest_tokens = window_sum(KEYS[4])
local in_tokens = used + reserved_tokens

if max_budget >= 0 and spend + reserved_cost >= max_budget then
  return {'budget', tostring(requests), tostring(in_tokens), '0'}
end
if max_parallel >= 0 and redis.call('ZCARD', KEYS[1]) >= max_parallel then
  return {'parallel', tostring(requests), tostring(in_tokens), '1'}
end
if rpm >= 0 and requests >= rpm then
  return {'rpm', tostring(requests), tostring(in_tokens), tostring(retry_after(oldest_request))}
end
if tpm >= 0 and in_tokens >= tpm then
  return {'tpm', tostring(requests), tostring(in_tokens), tostring(retry_after(oldest_tokens))}
end

redis.call('ZADD', KEYS[1], now_ms + lease_ms, request_id)
redis.call('HSET', KEYS[2], request_id, ARGV[7] .. ' ' .. ARGV[11])
redis.call('PEXPIRE', KEYS[1], lease_ms)
redis.call('PEXPIRE', KEYS[2], lease_ms)
redis.call('HINCRBY', KEYS[3], now_s, 1)
redis.call('EXPIRE', KEYS[3], window + 1)
return {'ok', tostring(requests + 1), tostring(in_tokens + tokens), '0'}
"""
