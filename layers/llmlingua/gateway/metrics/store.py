"""Fleet-wide metric values in one Redis hash: the only module here that talks to Redis.

A request's increments go in one EVALSHA (one round trip, atomic): the script admits the
request's team label if fewer than `max_teams` teams are known fleet-wide (else `overflow`) and
applies HINCRBYFLOAT to every field. Writes never fail a request: on any Redis error the batch is
dropped, the outage is logged once, and writes pause for `retry_after` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from gateway.metrics.definitions import OVERFLOW
from gateway.metrics.series import Increment
from gateway.observability import logger

_INCREMENT = """
local team = ARGV[1]
if redis.call('SISMEMBER', KEYS[2], team) == 0 then
  if redis.call('SCARD', KEYS[2]) < tonumber(ARGV[2]) then
    redis.call('SADD', KEYS[2], team)
  else
    team = ARGV[3]
  end
end
for i = 4, #ARGV, 2 do
  local name = ARGV[i]
  local at = string.find(name, '\\0', 1, true)  -- TEAM_SLOT
  if at then name = string.sub(name, 1, at - 1) .. team .. string.sub(name, at + 1) end
  redis.call('HINCRBYFLOAT', KEYS[1], name, ARGV[i + 1])
end
return team
"""


class MetricsStore:
    def __init__(
        self,
        client: Callable[[], Any],
        prefix: str = "gw:metrics:v1",
        max_teams: int = 100,
        retry_after: float = 5.0,
    ) -> None:
        self._client = client
        self.values_key = f"{prefix}:values"
        self.teams_key = f"{prefix}:teams"
        self.max_teams = max_teams
        self.retry_after = retry_after
        self.dropped = 0
        self._script: Any = None
        self._paused_until = 0.0
        self._outage_logged = False
        self._lock = threading.Lock()

    def write(self, team: str, increments: Sequence[Increment]) -> bool:
        """Apply one request's increments; False (and nothing raised) if they were dropped."""
        if not increments:
            return True
        if time.monotonic() < self._paused_until:
            self.dropped += 1
            return False
        args: list[Any] = [team, self.max_teams, OVERFLOW]
        for name, amount in increments:
            args += (name, repr(float(amount)))
        try:
            self._get_script()(keys=[self.values_key, self.teams_key], args=args)
        except Exception as error:  # noqa: BLE001 - metrics must never fail a request
            self._dropped(error)
            return False
        if self._outage_logged:
            logger.info("metrics store reachable again", extra={"dropped": self.dropped})
            self._outage_logged = False
        return True

    def read(self) -> dict[str, float]:
        """Every stored field and its value (raises if Redis cannot be read)."""
        raw = self._client().hgetall(self.values_key)
        return {_text(k): float(v) for k, v in raw.items()}

    def _get_script(self) -> Any:
        if self._script is None:
            self._script = self._client().register_script(_INCREMENT)
        return self._script

    def _dropped(self, error: Exception) -> None:
        with self._lock:
            self.dropped += 1
            self._paused_until = time.monotonic() + self.retry_after
            if not self._outage_logged:
                self._outage_logged = True
                logger.warning(
                    "metrics store unreachable: dropping metrics",
                    extra={"error_type": type(error).__name__, "retry_after_s": self.retry_after},
                )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@lru_cache(maxsize=4)
def redis_client(url: str, timeout: float) -> Any:
    """A cached client with short timeouts: a slow Redis costs a request at most `timeout`."""
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
    )
