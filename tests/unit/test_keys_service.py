"""KeyService: settings in, stored keys out (moto DynamoDB, local dev cipher)."""

from __future__ import annotations

import pytest
from gateway.errors import InvalidRequest, KeyNotFound
from gateway.keys.hashing import hash_key
from gateway.keys.service import KeyService

from tests.unit.keys_support import MODELS, PEPPER, Tables, local_credentials

pytest_plugins = ["tests.unit.keys_support"]

NOW = 1_800_000_000.0


@pytest.fixture
def service(tables: Tables) -> KeyService:
    credentials = local_credentials()
    return KeyService(
        tables.store(), lambda: credentials, lambda: PEPPER, MODELS, clock=lambda: NOW
    )


def test_generate_stores_only_the_keyed_hash(service: KeyService, tables: Tables) -> None:
    raw, record = service.generate({"key_alias": "team-a", "max_budget": 10.0, "duration": "30d"})
    assert raw.startswith("sk-") and record.key_name == f"sk-...{raw[-4:]}"
    assert record.key_hash == hash_key(raw, PEPPER)
    assert record.expires_at == NOW + 30 * 86400
    assert raw not in str(tables.client.scan(TableName=tables.keys)["Items"])
    assert service.resolve(raw) == service.resolve(record.token_id) == record


def test_unknown_models_and_alias_targets_are_refused(service: KeyService) -> None:
    with pytest.raises(InvalidRequest, match="no-such-model"):
        service.generate({"models": ["no-such-model"]})
    with pytest.raises(InvalidRequest, match="nowhere"):
        service.generate({"aliases": {"fast": "nowhere"}})
    _, record = service.generate({"models": ["fast"], "aliases": {"fast": "gpt-4o-mini"}})
    assert record.allows_model("gpt-4o-mini")


def test_update_changes_only_what_was_sent(service: KeyService) -> None:
    _, record = service.generate({"team_id": "a", "rpm_limit": 5, "budget_duration": "1d"})
    updated = service.update(record.token_id, {"tpm_limit": 100, "budget_duration": None})
    assert (updated.team_id, updated.rpm_limit, updated.tpm_limit) == ("a", 5, 100)
    assert updated.budget_duration is None and updated.budget_reset_at is None


def test_provider_credentials_are_sealed_and_only_their_names_shown(service: KeyService) -> None:
    _, record = service.generate({"provider_credentials": {"openai": "sk-tenant-secret-1"}})
    assert record.credentials is not None and b"sk-tenant-secret-1" not in record.credentials
    assert "sk-tenant-secret-1" not in str(service.view(record))
    assert local_credentials().open(record.credentials, record.token_id) == {
        "openai": "sk-tenant-secret-1"
    }
    cleared = service.update(record.token_id, {"provider_credentials": {}})
    assert cleared.credentials is None and cleared.credential_providers == ()


def test_regenerate_keeps_settings_and_retires_the_old_secret(service: KeyService) -> None:
    old_raw, record = service.generate({"key_alias": "a", "rpm_limit": 3})
    new_raw, new = service.regenerate(record.token_id, {"rpm_limit": 4})
    assert new_raw != old_raw and new.token_id == record.token_id
    assert (new.key_alias, new.rpm_limit) == ("a", 4)
    assert new.previous_key_hashes == (record.key_hash,)
    with pytest.raises(KeyNotFound):
        service.resolve(old_raw)
    assert service.resolve(new_raw) == new


def test_delete_is_all_or_nothing(service: KeyService) -> None:
    _, first = service.generate({})
    with pytest.raises(KeyNotFound):
        service.delete([first.token_id, "0" * 32])
    assert service.resolve(first.token_id) == first
    assert service.delete([first.token_id]) == [first.token_id]
    with pytest.raises(KeyNotFound):
        service.resolve(first.token_id)


def test_list_filters_by_team_user_and_alias(service: KeyService) -> None:
    service.generate({"team_id": "t", "user_id": "u1", "key_alias": "x"})
    service.generate({"team_id": "t", "user_id": "u2"})
    service.generate({"team_id": "other"})
    assert len(service.list(team_id="t")) == 2
    assert len(service.list(team_id="t", user_id="u1")) == 1
    assert len(service.list(key_alias="x")) == 1
    assert len(service.list()) == 3
