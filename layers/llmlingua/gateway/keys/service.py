"""Key management: generate, find, update, regenerate, block, delete and list virtual keys.

Takes validated settings (field names as in LiteLLM's /key/* bodies) and turns them into stored
records. A key is named either by its secret (`sk-...`) or by its public `token_id`.
Every write is wrapped in the invalidation of the key's cached copies (keys/invalidation.py),
so a change takes effect on the next request on every instance. Reads here go to DynamoDB.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.errors import InvalidRequest, KeyNotFound
from gateway.keys.credentials import ProviderCredentials
from gateway.keys.durations import iso, parse_duration
from gateway.keys.hashing import hash_key, key_name, looks_like_raw_key, new_raw_key, new_token_id
from gateway.keys.model import KeyRecord
from gateway.keys.store import KeyStore, expiry_ttl_changes

if TYPE_CHECKING:
    from gateway.keys.invalidation import KeyChanges

_TOKEN_ID = re.compile(r"^[0-9a-f]{32}$")
_PLAIN_FIELDS = (
    "key_alias", "user_id", "team_id", "rpm_limit", "tpm_limit", "max_parallel_requests", "blocked",
)  # fmt: skip
_MONEY_FIELDS = ("max_budget", "soft_budget", "spend")
_MAX_PREVIOUS_HASHES = 20


class KeyService:
    def __init__(
        self,
        store: KeyStore,
        credentials: Callable[[], ProviderCredentials],
        pepper: Callable[[], str],
        model_names: Iterable[str],
        clock: Callable[[], float] = time.time,
        # None: no key cache to invalidate. A callable is asked on first use, so a call that
        # changes nothing cached (listing, generating a random key) never imports redis.
        changes: KeyChanges | Callable[[], KeyChanges | None] | None = None,
    ) -> None:
        self._store = store
        self._changes_source = changes
        self._credentials = credentials
        self._pepper = pepper
        self._models = frozenset(model_names)
        self._clock = clock

    def generate(self, settings: Mapping[str, Any]) -> tuple[str, KeyRecord]:
        """A new key with these settings; returns the raw secret (shown once) and the record."""
        now = self._clock()
        raw = settings.get("key") or new_raw_key()
        token_id = new_token_id()
        base = KeyRecord(
            key_hash=hash_key(raw, self._pepper()),
            token_id=token_id,
            key_name=key_name(raw),
            created_at=str(iso(now)),
            updated_at=str(iso(now)),
        )
        changes = self._field_changes(base, {k: v for k, v in settings.items() if k != "key"}, now)
        changes.pop("ttl", None)
        record = dataclasses.replace(base, **changes)
        self._store.create(record)
        if settings.get("key") and (changes_now := self._changes) is not None:
            # A caller-chosen secret may have been tried before and cached as "no such key":
            # write the new record through. A generated secret is 256 random bits nobody can
            # have tried, so it needs no Valkey call (and no redis import on a cold start:
            # ~0.2 s); its first request fills the cache.
            changes_now.created(record)
        return raw, record

    def resolve(self, identifier: str) -> KeyRecord:
        """The key named by its secret or its token id."""
        if looks_like_raw_key(identifier):
            record = self._store.get(hash_key(identifier, self._pepper()))
        elif _TOKEN_ID.match(identifier):
            record = self._store.get_by_token_id(identifier)
        else:
            record = None
        if record is None:
            raise KeyNotFound("No such key (it may have been deleted).", param="key")
        return record

    def refers_to(self, identifier: str, record: KeyRecord) -> bool:
        """Does `identifier` (a secret or a token id) name this key?"""
        if looks_like_raw_key(identifier):
            return hash_key(identifier, self._pepper()) == record.key_hash
        return identifier == record.token_id

    def view(self, record: KeyRecord) -> dict[str, Any]:
        return record.public_view(self._clock())

    def update(self, identifier: str, settings: Mapping[str, Any]) -> KeyRecord:
        record = self.resolve(identifier)
        changes = self._field_changes(record, settings, self._clock())
        with self._change([record.key_hash], what="The change"):
            return self._store.update(record.key_hash, changes)

    def set_blocked(self, identifier: str, blocked: bool) -> KeyRecord:
        return self.update(identifier, {"blocked": blocked})

    def delete(self, identifiers: Iterable[str]) -> list[str]:
        """Delete every named key, or none if any of them does not exist."""
        records = [self.resolve(identifier) for identifier in identifiers]
        with self._change([record.key_hash for record in records], what="The deletion"):
            for record in records:
                self._store.delete(record)
        return [record.token_id for record in records]

    def regenerate(
        self, identifier: str, settings: Mapping[str, Any], new_key: str | None = None
    ) -> tuple[str, KeyRecord]:
        """A new secret for the same key (same token id, settings and spend)."""
        old = self.resolve(identifier)
        now = self._clock()
        raw = new_key or new_raw_key()
        changes = self._field_changes(old, settings, now)
        changes.pop("ttl", None)
        history = (old.key_hash, *old.previous_key_hashes)[:_MAX_PREVIOUS_HASHES]
        new = dataclasses.replace(
            old,
            **changes,
            key_hash=hash_key(raw, self._pepper()),
            key_name=key_name(raw),
            previous_key_hashes=history,
        )
        # Refused up front if the cache is unreachable: the new secret is shown only once, so the
        # answer cannot be an error after the swap.
        with self._change([old.key_hash, new.key_hash], fence="required", unpropagated="log"):
            self._store.replace(old, new)
        return raw, new

    def list(
        self, team_id: str | None = None, user_id: str | None = None, key_alias: str | None = None
    ) -> list[KeyRecord]:
        records = [
            record
            for record in self._store.scan(team_id=team_id, user_id=user_id)
            if (user_id is None or record.user_id == user_id)
            and (key_alias is None or record.key_alias == key_alias)
        ]
        return sorted(records, key=lambda record: (record.created_at, record.token_id))

    @functools.cached_property
    def _changes(self) -> KeyChanges | None:
        source = self._changes_source
        return source() if callable(source) else source

    def _change(self, key_hashes: Sequence[str], **options: str) -> AbstractContextManager[None]:
        changes = self._changes
        if changes is None:
            return contextlib.nullcontext()
        return changes.change(key_hashes, **options)

    # -- settings -> stored fields --------------------------------------------------------
    def _field_changes(
        self, record: KeyRecord, settings: Mapping[str, Any], now: float
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {"updated_at": iso(now)}
        for name in _PLAIN_FIELDS:
            if name in settings:
                changes[name] = settings[name]
        for name in _MONEY_FIELDS:
            if name in settings:
                value = settings[name]
                changes[name] = None if value is None else Decimal(str(value))
        if changes.get("spend", 0) is None:
            changes["spend"] = Decimal(0)
        if "models" in settings:
            changes["models"] = tuple(settings["models"] or ())
        if "aliases" in settings:
            changes["aliases"] = dict(settings["aliases"] or {})
        if "tags" in settings:
            changes["tags"] = tuple(settings["tags"] or ())
        if "metadata" in settings:
            changes["metadata"] = dict(settings["metadata"] or {})
        if "duration" in settings:
            duration = settings["duration"]
            changes["expires_at"] = parse_duration(duration).after(now) if duration else None
            changes.update(expiry_ttl_changes(changes["expires_at"]))
        if "budget_duration" in settings:
            window = settings["budget_duration"]
            changes["budget_duration"] = window
            changes["budget_reset_at"] = parse_duration(window).after(now) if window else None
        if "provider_credentials" in settings:
            changes.update(self._sealed(settings["provider_credentials"], record.token_id))
        self._check_models(
            changes.get("models", record.models), changes.get("aliases", record.aliases)
        )
        return changes

    def _sealed(self, credentials: Mapping[str, str] | None, token_id: str) -> dict[str, Any]:
        if not credentials:
            return {"credentials": None, "credential_providers": ()}
        return {
            "credentials": self._credentials().seal(credentials, token_id),
            "credential_providers": tuple(sorted(credentials)),
        }

    def _check_models(self, models: Iterable[str], aliases: Mapping[str, str]) -> None:
        unknown_targets = sorted(set(aliases.values()) - self._models)
        if unknown_targets:
            raise InvalidRequest(
                f"aliases point at unknown models: {', '.join(unknown_targets)}", param="aliases"
            )
        unknown = sorted(set(models) - self._models - set(aliases))
        if unknown:
            raise InvalidRequest(
                f"models are neither configured models nor aliases: {', '.join(unknown)}",
                param="models",
            )
