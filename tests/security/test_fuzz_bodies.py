"""Property-based fuzzing of every POST route's body (hypothesis), in process: arbitrary JSON,
and near-valid bodies with hostile field values. Never a 5xx, always the error envelope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.apigw import routes_from_template
from devstack.cfn import load_template
from devstack.stack import TEMPLATE
from tests.security.inprocess import MASTER, Apps, assert_envelope

pytest_plugins = ["tests.security.inprocess"]

POSTS = [r for r in routes_from_template(load_template(TEMPLATE)) if r.method == "POST"]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
TRIED: dict[str, int] = {}  # inputs tried per route, printed at the end (docs/reliability.md)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)  # NaN/Infinity are not JSON; see test_fuzz_hostile
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
models = st.sampled_from(
    ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2-5-flash", "text-embedding-3-small", "nope", ""]
)
hostile = json_values | st.sampled_from(
    [10**12, -1, 0, 2**63, 1e308, "sk-" + "a" * 40, "\u0000", "\ud7ff" * 50, "a" * 10_000, [], {}]
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", "tool", "x"])},
        optional={"content": st.text(max_size=60) | hostile, "name": hostile},
    ),
    max_size=3,
)
near_valid = st.fixed_dictionaries(
    {"model": models},
    optional={
        "messages": messages,
        "prompt": st.text(max_size=60) | hostile,
        "input": st.text(max_size=60) | hostile,
        "n": st.integers(min_value=-5, max_value=10**9) | hostile,
        "max_tokens": st.integers(min_value=-5, max_value=10**12) | hostile,
        "max_completion_tokens": st.integers(min_value=-5, max_value=10**12),
        "temperature": hostile,
        "stream": st.booleans() | hostile,
        "stream_options": hostile,
        "cache": hostile,
        "api_base": st.just("http://169.254.169.254/"),
        "mock_response": st.just("pwned"),
        "key": hostile,
        "keys": hostile,
        "team_id": hostile,
        "max_budget": hostile,
        "rpm_limit": hostile,
        "duration": hostile,
        "metadata": hostile,
        "provider_credentials": hostile,
    },
)


async def _post(apps: Apps, path: str, body: bytes, key: str) -> tuple[int, bytes]:
    app = apps.keys if path.startswith(("/key", "/spend")) else apps.completion
    async with apps.client(app) as client:
        response = await client.post(
            path,
            content=body,
            headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        return response.status_code, response.content


def _check(apps: Apps, path: str, body: Any, key: str) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    TRIED[path] = TRIED.get(path, 0) + 1
    status, content = asyncio.run(_post(apps, path, raw, key))
    assert_envelope(status, content, (path, body))


@pytest.mark.parametrize("path", [r.path for r in POSTS])
@FUZZ
@given(body=json_values)
def test_arbitrary_json_never_breaks_a_post_route(apps: Apps, path: str, body: Any) -> None:
    _check(apps, path, body, MASTER)


@pytest.mark.parametrize("path", [r.path for r in POSTS if not r.path.startswith("/key")])
@FUZZ
@given(body=near_valid, as_tenant=st.booleans())
def test_near_valid_inference_bodies(apps: Apps, path: str, body: Any, as_tenant: bool) -> None:
    _check(apps, path, body, apps.virtual_key if as_tenant else MASTER)


@pytest.mark.parametrize("path", [r.path for r in POSTS if r.path.startswith("/key")])
@FUZZ
@given(body=near_valid)
def test_near_valid_key_admin_bodies(apps: Apps, path: str, body: Any) -> None:
    _check(apps, path, body, MASTER)


def test_report_inputs_tried() -> None:
    print(f"\nfuzz inputs tried: {sum(TRIED.values())} over {len(TRIED)} routes")
