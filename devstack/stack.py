"""The local stand-in for AWS: Valkey with vector search, DynamoDB (moto server), fake providers.

`LocalStack` starts what is not given from outside (REDIS_URL / DYNAMODB_ENDPOINT_URL point at
existing servers instead) and returns the environment the gateway processes need.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from devstack.cfn import load_template
from devstack.dynamodb import (
    DEFAULT_TABLE_NAMES,
    LocalDynamoDB,
    create_tables_from_template,
    dynamodb_client,
)
from devstack.fake_providers import FakeProviderServer
from devstack.valkey import LocalValkey

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
LOCAL_MASTER_KEY = "sk-local-master-key"  # local mode only; Settings refuses it in dev/prod
LOCAL_PEPPER = "local-pepper-not-secret"
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
# Provider -> (base URL variable, path suffix litellm expects, key variable).
FAKE_WIRING = {
    "openai": ("OPENAI_API_BASE", "/v1", "OPENAI_API_KEY"),
    "anthropic": ("ANTHROPIC_API_BASE", "", "ANTHROPIC_API_KEY"),
    "gemini": ("GEMINI_API_BASE", "/v1beta", "GOOGLE_API_KEY"),
    "groq": ("GROQ_API_BASE", "/openai/v1", "GROQ_API_KEY"),
}


@dataclass
class LocalStack:
    """Starts the local services; `env` is what gateway processes must run with."""

    environ: Mapping[str, str]
    demo: bool = False
    env: dict[str, str] = field(default_factory=dict)
    fakes: dict[str, FakeProviderServer] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def start(self) -> LocalStack:
        env = dict(OFFLINE_ENV)
        env.setdefault("GATEWAY_ENV", "local")
        env["LITELLM_MASTER_KEY"] = self.environ.get("LITELLM_MASTER_KEY") or LOCAL_MASTER_KEY
        env["KEY_PEPPER"] = self.environ.get("KEY_PEPPER") or LOCAL_PEPPER
        env["AWS_REGION"] = self.environ.get("AWS_REGION") or "us-east-1"
        env["AWS_ACCESS_KEY_ID"] = self.environ.get("AWS_ACCESS_KEY_ID") or "local"
        env["AWS_SECRET_ACCESS_KEY"] = self.environ.get("AWS_SECRET_ACCESS_KEY") or "local"
        env["REDIS_URL"] = self.environ.get("REDIS_URL") or self._start_valkey()
        env["DYNAMODB_ENDPOINT_URL"] = (
            self.environ.get("DYNAMODB_ENDPOINT_URL") or self._start_moto()
        )
        env["KEYS_TABLE"] = self.environ.get("KEYS_TABLE") or DEFAULT_TABLE_NAMES["KeysTable"]
        env["SPEND_LOGS_TABLE"] = (
            self.environ.get("SPEND_LOGS_TABLE") or DEFAULT_TABLE_NAMES["SpendLogsTable"]
        )
        names = {"KeysTable": env["KEYS_TABLE"], "SpendLogsTable": env["SPEND_LOGS_TABLE"]}
        create_tables_from_template(
            dynamodb_client(env["DYNAMODB_ENDPOINT_URL"]), load_template(TEMPLATE), names
        )
        if self.demo:
            env.update(self._start_fakes())
            env["DEMO_MODE"] = "true"
        self.env = env
        return self

    def _start_valkey(self) -> str:
        return self._stack.enter_context(LocalValkey()).url

    def _start_moto(self) -> str:
        return self._stack.enter_context(LocalDynamoDB()).endpoint_url

    def _start_fakes(self) -> dict[str, str]:
        env = {}
        for provider, (base_var, suffix, key_var) in FAKE_WIRING.items():
            server = self._stack.enter_context(FakeProviderServer(f"fake-{provider}"))
            self.fakes[provider] = server
            env[base_var] = server.url + suffix
            env[key_var] = f"fake-{provider}-key"
        return env

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
