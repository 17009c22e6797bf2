"""The stored virtual key and the views of it the API may show.

A `KeyRecord` is one item of KeysTable. Its public view never carries the stored hash or the
tenant's provider credentials (only the names of the providers they cover).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.keys.durations import iso, parse_duration

ZERO = Decimal(0)


@dataclass(frozen=True)
class KeyRecord:
    key_hash: str
    token_id: str
    key_name: str
    created_at: str
    updated_at: str
    key_alias: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    models: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    max_budget: Decimal | None = None
    soft_budget: Decimal | None = None
    budget_duration: str | None = None
    budget_reset_at: float | None = None  # epoch seconds; the current window ends here
    spend: Decimal = ZERO  # spend in the current budget window (all time without a window)
    model_spend: Mapping[str, Decimal] = field(default_factory=dict)
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    blocked: bool = False
    expires_at: float | None = None  # epoch seconds; None: never
    credentials: bytes | None = None  # encrypted provider credentials (never shown)
    credential_providers: tuple[str, ...] = ()
    previous_key_hashes: tuple[str, ...] = ()  # before /key/regenerate, for /spend/logs
    last_used_at: str | None = None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def window_expired(self, now: float) -> bool:
        return self.budget_reset_at is not None and now >= self.budget_reset_at

    def window_spend(self, now: float) -> Decimal:
        """Spend in the budget window that contains `now` (0 once the stored window is over)."""
        return ZERO if self.window_expired(now) else self.spend

    def next_budget_reset(self, now: float) -> float | None:
        """Where the window containing `now` ends (lazy reset: computed, not scheduled)."""
        if self.budget_duration is None:
            return None
        duration = parse_duration(self.budget_duration)
        if self.budget_reset_at is None:
            return duration.after(now)
        if now < self.budget_reset_at:
            return self.budget_reset_at
        return duration.next_reset(self.budget_reset_at, now)

    def allows_model(self, model: str) -> bool:
        """Is the (alias-resolved) model allowed? An empty `models` list allows every model;
        listing an alias allows the model it points to."""
        if not self.models:
            return True
        allowed = set(self.models) | {self.aliases[m] for m in self.models if m in self.aliases}
        return model in allowed

    @property
    def has_limits(self) -> bool:
        limits = (self.max_budget, self.rpm_limit, self.tpm_limit, self.max_parallel_requests)
        return any(limit is not None for limit in limits)

    def public_view(self, now: float) -> dict[str, Any]:
        """What /key/info, /key/list and the management responses show (LiteLLM's names)."""
        spend = self.window_spend(now)
        remaining = None if self.max_budget is None else max(self.max_budget - spend, ZERO)
        return {
            "token_id": self.token_id,
            "key_name": self.key_name,
            "key_alias": self.key_alias,
            "user_id": self.user_id,
            "team_id": self.team_id,
            "models": list(self.models),
            "aliases": dict(self.aliases),
            "spend": float(spend),
            "model_spend": {} if self.window_expired(now) else _floats(self.model_spend),
            "max_budget": _float(self.max_budget),
            "budget_remaining": _float(remaining),
            "soft_budget": _float(self.soft_budget),
            "soft_budget_exceeded": self.soft_budget is not None and spend >= self.soft_budget,
            "budget_duration": self.budget_duration,
            "budget_reset_at": iso(self.next_budget_reset(now)),
            "rpm_limit": self.rpm_limit,
            "tpm_limit": self.tpm_limit,
            "max_parallel_requests": self.max_parallel_requests,
            "metadata": dict(self.metadata),
            "tags": list(self.tags),
            "blocked": self.blocked,
            "expires": iso(self.expires_at),
            "expired": self.expired(now),
            "provider_credentials_set": list(self.credential_providers),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_used_at": self.last_used_at,
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _floats(values: Mapping[str, Decimal]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items()}
