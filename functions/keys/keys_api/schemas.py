"""Request bodies of /key/*, with LiteLLM's field names and strict validation.

Unknown fields, wrong types (no "10" for 10), negative budgets or limits, malformed durations
and oversized metadata are refused with 400 in the OpenAI error envelope.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from gateway.keys.durations import parse_duration
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Name = Annotated[str, Field(min_length=1, max_length=256)]
Identifier = Annotated[str, Field(min_length=1, max_length=256)]
Money = Annotated[float, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]
Provider = Literal["openai", "anthropic", "gemini", "groq"]
ProviderKey = Annotated[str, Field(min_length=1, max_length=1024)]
RawKey = Annotated[str, Field(pattern=r"^sk-[A-Za-z0-9_\-]{16,128}$")]
MAX_METADATA_BYTES = 8192


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def settings(self, *exclude: str) -> dict[str, Any]:
        """The fields the caller sent (explicit nulls included), minus `exclude`."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name not in exclude and name not in ("rpm", "tpm")
        }


class KeySettings(_Strict):
    """The settings a key carries; every field optional (LiteLLM's GenerateKeyRequest subset)."""

    key_alias: Name | None = None
    user_id: Name | None = None
    team_id: Name | None = None
    models: list[Name] | None = Field(default=None, max_length=200)
    aliases: dict[Name, Name] | None = Field(default=None, max_length=100)
    max_budget: Money | None = None
    soft_budget: Money | None = None
    budget_duration: str | None = Field(default=None, max_length=16)
    duration: str | None = Field(default=None, max_length=16)
    rpm_limit: Count | None = None
    tpm_limit: Count | None = None
    rpm: Count | None = None  # the seed's names for rpm_limit / tpm_limit
    tpm: Count | None = None
    max_parallel_requests: Count | None = None
    metadata: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=50
    )
    blocked: bool | None = None
    provider_credentials: dict[Provider, ProviderKey] | None = None

    @field_validator("budget_duration", "duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return None if value is None else str(parse_duration(value))

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON")
        return value

    @model_validator(mode="after")
    def _seed_limit_names(self) -> KeySettings:
        for short, full in (("rpm", "rpm_limit"), ("tpm", "tpm_limit")):
            if short not in self.model_fields_set:
                continue
            if full in self.model_fields_set and getattr(self, full) != getattr(self, short):
                raise ValueError(f"{short} and {full} disagree; send one of them")
            setattr(self, full, getattr(self, short))
            self.model_fields_set.add(full)
        return self


class GenerateKeyRequest(KeySettings):
    key: RawKey | None = None  # a caller-chosen secret, as LiteLLM allows


class UpdateKeyRequest(KeySettings):
    key: Identifier
    spend: Money | None = None  # reset or correct the current window's spend


class RegenerateKeyRequest(KeySettings):
    key: Identifier
    new_key: RawKey | None = None


class KeyRef(_Strict):
    key: Identifier


class KeyInfoRequest(_Strict):
    key: Identifier | None = None


class DeleteKeysRequest(_Strict):
    keys: list[Identifier] | None = Field(default=None, min_length=1, max_length=100)
    key: Identifier | None = None

    @model_validator(mode="after")
    def _one_of(self) -> DeleteKeysRequest:
        if (self.keys is None) == (self.key is None):
            raise ValueError("send either 'keys' (a list) or 'key'")
        return self

    def identifiers(self) -> list[str]:
        return list(self.keys) if self.keys is not None else [str(self.key)]
