"""Per-key budget reservations, RPM, TPM and parallel-request limits, atomic in Redis.

One Lua script does the whole admission decision in one round trip, so every Lambda instance
sees the same counters and no two can both take the last slot:

- in flight: a ZSET of request ids scored by a lease deadline plus a HASH of each request's
  reservation ("<cost estimate> <token estimate>"). A request that dies without settling
  (Lambda killed) frees its slot and reservation when the lease runs out.
- RPM and TPM: a sliding window of 60 one-second buckets (HASH second -> count/tokens), so a
  limit holds in any 60 s window, not just per calendar minute. RPM counts a request when it
  is admitted; TPM counts a request's actual input + output tokens when it settles, and its
  estimated tokens while it is in flight.
- budget: admitted while window spend (from DynamoDB) + in-flight cost estimates < max_budget.

Time is Redis's own clock (TIME), so instances with skewed clocks still agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import DependencyUnavailable

_SCRIPT = """
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

if op == 'settle' then
  -- ARGV: op, window, request_id, tokens_used, tpm_tracked
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
--              max_parallel, rpm, tpm, token_estimate   (a limit of -1 means none)
local request_id, lease_ms = ARGV[3], tonumber(ARGV[4])
local max_budget, spend, cost = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local max_parallel, rpm, tpm = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local tokens = tonumber(ARGV[11])

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

WINDOW_SECONDS = 60
_PREFIX = "gw:lim"


@dataclass(frozen=True)
class Limits:
    """One key's limits (None: unlimited) and its spend in the current budget window."""

    max_budget: float | None = None
    window_spend: float = 0.0
    max_parallel: int | None = None
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True)
class Decision:
    refused: str | None  # None, "budget", "parallel", "rpm" or "tpm"
    requests_in_window: int  # including this one, when admitted
    tokens_in_window: int  # settled tokens plus in-flight estimates
    retry_after: int = 0

    def remaining_requests(self, limits: Limits) -> int | None:
        return None if limits.rpm is None else max(limits.rpm - self.requests_in_window, 0)

    def remaining_tokens(self, limits: Limits) -> int | None:
        return None if limits.tpm is None else max(limits.tpm - self.tokens_in_window, 0)


class Limiter:
    """Admission and settlement for one key scope (the key's stable token id)."""

    def __init__(self, client: Any, lease_seconds: int = 330) -> None:
        self._client = client
        self._lease_ms = lease_seconds * 1000
        self._script = client.register_script(_SCRIPT)

    def admit(
        self,
        scope: str,
        request_id: str,
        limits: Limits,
        cost_estimate: float,
        token_estimate: int,
    ) -> Decision:
        """Reserve a slot, the estimated cost and tokens, or say which limit refused."""
        args = [
            "admit",
            WINDOW_SECONDS,
            request_id,
            self._lease_ms,
            _limit(limits.max_budget),
            repr(float(limits.window_spend)),
            repr(float(cost_estimate)),
            _limit(limits.max_parallel),
            _limit(limits.rpm),
            _limit(limits.tpm),
            int(token_estimate),
        ]
        return self._run(scope, args)

    def settle(self, scope: str, request_id: str, tokens_used: int, limits: Limits) -> Decision:
        """Release the request's slot and reservation; count its actual tokens toward TPM."""
        tracked = "1" if limits.tpm is not None else "0"
        return self._run(scope, ["settle", WINDOW_SECONDS, request_id, int(tokens_used), tracked])

    def _run(self, scope: str, args: list[Any]) -> Decision:
        tag = "{" + scope + "}"  # one hash slot per key, for Redis Cluster
        keys = [f"{_PREFIX}:{tag}:{name}" for name in ("inflight", "reserved", "rpm", "tpm")]
        try:
            outcome, requests, tokens, retry = self._script(keys=keys, args=args)
        except Exception as error:  # redis.RedisError and socket errors
            raise DependencyUnavailable("The rate limiter is unavailable.") from error
        verdict = _text(outcome)
        return Decision(
            refused=None if verdict == "ok" else verdict,
            requests_in_window=int(float(_text(requests))),
            tokens_in_window=int(float(_text(tokens))),
            retry_after=int(_text(retry)),
        )


def _limit(value: float | int | None) -> str:
    return "-1" if value is None else repr(float(value))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
