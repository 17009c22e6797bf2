"""Calls to OpenAI-wire deployments over one pooled `httpx.AsyncClient`, routed and retried as
litellm's Router does: simple-shuffle over the group's deployments, `num_retries` on 408, 409,
429, 5xx, timeouts, connection errors and unreadable bodies, with litellm's backoff (the
provider's Retry-After when it gives one of up to 60 s, else 0.5 s * 2^n capped at 8 s and at
least `retry_after`, plus up to 0.75 s of jitter). A stream is retried only before its first
byte. Headers report what litellm reports: x-litellm-model-id, -model-group,
-attempted-retries, -max-retries, -attempted-fallbacks and, for a finished answer,
-response-cost (from the gateway's PriceBook)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from gateway.passthrough.errors import WireError
from gateway.passthrough.stream import WireStream
from gateway.passthrough.targets import Target

# Keys of a call that are litellm's (or ours), never the provider's.
_NOT_SENT = frozenset(
    {"model", "api_key", "litellm_call_id", "metadata", "litellm_metadata", "proxy_server_request"}
)
_JITTER_S, _INITIAL_DELAY_S, _MAX_DELAY_S = 0.75, 0.5, 8.0
_DEFAULT_RETRIES = 2  # litellm's Router without num_retries


class WireClient:
    def __init__(
        self,
        router_settings: Mapping[str, Any],
        cost: Callable[[str, dict[str, Any]], float | None],
    ) -> None:
        retries = router_settings.get("num_retries")
        self.num_retries = _DEFAULT_RETRIES if retries is None else int(retries)
        self.min_backoff_s = float(router_settings.get("retry_after") or 0)
        self._cost = cost
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def http(self) -> httpx.AsyncClient:
        """The shared client of the running event loop (a pool cannot outlive its loop)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            # Timeouts are set per request (the deployment's), hence none here.
            self._http = httpx.AsyncClient(limits=limits, timeout=None)  # noqa: S113
            self._loop = loop
        return self._http

    async def call(
        self, kind: str, params: dict[str, Any], targets: Sequence[Target]
    ) -> tuple[Any, dict[str, str]]:
        """The provider's answer (a dict, or a WireStream) and the x-litellm-* headers."""
        stream = bool(params.get("stream")) and kind != "embedding"
        failed: set[str] = set()
        attempt = 0
        while True:
            target = _pick(targets, failed)
            try:
                body = await self._once(kind, params, target, stream)
            except WireError as error:
                if not error.retryable or attempt >= self.num_retries:
                    raise
                failed.add(target.model_id)
                await asyncio.sleep(self._backoff(attempt, error))
                attempt += 1
                continue
            return body, self._headers(target, attempt, None if stream else body)

    async def _once(self, kind: str, params: dict[str, Any], target: Target, stream: bool) -> Any:
        payload = {k: v for k, v in params.items() if k not in _NOT_SENT}
        payload["model"] = target.model
        headers = {"Content-Type": "application/json"}
        api_key = params.get("api_key") or target.api_key  # a tenant's own key wins
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if target.organization:
            headers["OpenAI-Organization"] = target.organization
        seconds = target.stream_timeout_s if stream else target.timeout_s
        client = self.http()
        request = client.build_request(
            "POST",
            target.url(kind),
            content=json.dumps(payload, separators=(",", ":")).encode(),
            headers=headers,
            timeout=httpx.Timeout(seconds),
        )
        try:
            response = await client.send(request, stream=stream)
            if stream and response.status_code < 400:
                return WireStream(response, target.provider, seconds)
            if stream:
                await response.aread()
        except httpx.TimeoutException as error:
            raise WireError.timeout(target.provider, seconds) from error
        except httpx.HTTPError as error:
            raise WireError.connection(target.provider, error) from error
        if response.status_code >= 400:
            raise WireError.from_response(response, target.provider)
        try:
            body = json.loads(response.content)
        except ValueError as error:
            raise WireError.unreadable(target.provider) from error
        if not isinstance(body, dict):
            raise WireError.unreadable(target.provider)
        return body

    def _backoff(self, attempt: int, error: WireError) -> float:
        jitter = _JITTER_S * random.random()  # noqa: S311 - backoff jitter, not a secret
        retry_after = _retry_after_s(error)
        if retry_after is not None and 0 < retry_after <= 60:
            return retry_after + jitter
        delay = max(_INITIAL_DELAY_S * 2.0**attempt, self.min_backoff_s)
        return min(delay, _MAX_DELAY_S) + jitter

    def _headers(self, target: Target, attempt: int, body: Any) -> dict[str, str]:
        headers = {
            "x-litellm-model-group": target.model_name,
            "x-litellm-attempted-retries": str(attempt),
            "x-litellm-max-retries": str(self.num_retries),
            "x-litellm-attempted-fallbacks": "0",
            "x-litellm-model-id": target.model_id,
        }
        usage = body.get("usage") if isinstance(body, dict) else None
        cost = self._cost(target.model_name, usage) if isinstance(usage, dict) else None
        if cost is not None:
            headers["x-litellm-response-cost"] = str(cost)
        return headers


def _pick(targets: Sequence[Target], failed: set[str]) -> Target:
    """simple-shuffle: a random deployment (weighted when every one has a weight), preferring
    those that have not failed this request."""
    fresh = [t for t in targets if t.model_id not in failed] or list(targets)
    if len(fresh) == 1:
        return fresh[0]
    weights = [t.weight for t in fresh]
    if all(w is not None and w > 0 for w in weights):
        return random.choices(fresh, weights=weights)[0]  # type: ignore[arg-type]  # noqa: S311
    return random.choice(fresh)  # noqa: S311 - load spreading, not a secret


def _retry_after_s(error: WireError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
