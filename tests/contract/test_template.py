"""template.yaml and the build inputs keep the promises of docs/CONTRACTS.md.

Offline and without the SAM CLI: the template is read with devstack.cfn (short-form
intrinsics as long-form dicts). `make validate` (sam validate --lint) is the separate,
SAM-backed check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devstack.cfn import api_routes, load_template, loads, resources, tables

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "docs" / "CONTRACTS.md"

COMPLETION_ROUTES = {
    ("POST", "/v1/chat/completions"),
    ("POST", "/chat/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/completions"),
    ("POST", "/v1/embeddings"),
    ("POST", "/embeddings"),
    ("GET", "/v1/models"),
    ("GET", "/models"),
    ("GET", "/health"),
    ("GET", "/health/liveliness"),
    ("GET", "/health/readiness"),
    ("GET", "/metrics"),
}
KEYS_ROUTES = {
    ("POST", "/key/generate"),
    ("GET", "/key/info"),
    ("POST", "/key/info"),
    ("POST", "/key/update"),
    ("POST", "/key/delete"),
    ("GET", "/key/list"),
    ("POST", "/key/regenerate"),
    ("POST", "/key/block"),
    ("POST", "/key/unblock"),
    ("GET", "/spend/logs"),
}
EXPECTED_ROUTES = {
    **{route: "CompletionFunction" for route in COMPLETION_ROUTES},
    **{route: "KeysFunction" for route in KEYS_ROUTES},
}
FUNCTIONS = ("CompletionFunction", "KeysFunction", "SpendFlushFunction")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def res(template: dict[str, Any]) -> dict[str, Any]:
    return resources(template)


def function_props(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with the template's Globals.Function underneath."""
    merged = dict((template.get("Globals") or {}).get("Function") or {})
    merged.update(template["Resources"][logical_id]["Properties"])
    return merged


def env_vars(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    merged = dict(
        ((template.get("Globals") or {}).get("Function") or {})
        .get("Environment", {})
        .get("Variables", {})
    )
    own = template["Resources"][logical_id]["Properties"].get("Environment", {})
    merged.update(own.get("Variables", {}))
    return merged


def policy_statements(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every IAM/KMS policy statement anywhere in `node`."""
    if isinstance(node, Mapping):
        statements = node.get("Statement")
        if isinstance(statements, list):
            yield from (s for s in statements if isinstance(s, Mapping))
        elif isinstance(statements, Mapping):
            yield statements
        for value in node.values():
            yield from policy_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from policy_statements(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_actions(template: Mapping[str, Any], logical_id: str) -> dict[str, list[Any]]:
    """Action -> resources of the Allow statements in a function's inline policies."""
    found: dict[str, list[Any]] = {}
    policies = template["Resources"][logical_id]["Properties"].get("Policies", [])
    for statement in policy_statements(policies):
        if statement.get("Effect") == "Allow":
            for action in as_list(statement.get("Action", [])):
                found.setdefault(action, []).extend(as_list(statement.get("Resource")))
    return found


def statements_with(template: Mapping[str, Any], logical_id: str, action: str) -> list[Any]:
    policies = template["Resources"][logical_id]["Properties"].get("Policies", [])
    return [s for s in policy_statements(policies) if action in as_list(s.get("Action", []))]


# -- IAM ------------------------------------------------------------------------------------


def test_no_wildcard_iam_actions_anywhere(template: dict[str, Any]) -> None:
    statements = list(policy_statements(template))
    assert statements, "expected policy statements in the template"
    for statement in statements:
        assert "NotAction" not in statement, statement
        for action in as_list(statement.get("Action", [])):
            assert isinstance(action, str), statement
            assert "*" not in action, f"wildcard action {action!r} in {statement.get('Sid')}"


def test_functions_use_no_managed_or_template_policies(template: dict[str, Any]) -> None:
    for logical_id in FUNCTIONS:
        for policy in template["Resources"][logical_id]["Properties"].get("Policies", []):
            assert isinstance(policy, Mapping) and "Statement" in policy, policy


def test_completion_function_reads_keys_and_only_updates_spend(template: dict[str, Any]) -> None:
    actions = allowed_actions(template, "CompletionFunction")
    keys_arn = {"Fn::GetAtt": ["KeysTable", "Arn"]}
    spend_arn = {"Fn::GetAtt": ["SpendLogsTable", "Arn"]}

    assert actions["dynamodb:GetItem"] == [keys_arn]
    assert actions["dynamodb:UpdateItem"] == [keys_arn]
    assert actions["dynamodb:PutItem"] == [spend_arn]
    for forbidden in ("dynamodb:DeleteItem", "dynamodb:Scan", "kms:Encrypt"):
        assert forbidden not in actions
    [update] = statements_with(template, "CompletionFunction", "dynamodb:UpdateItem")
    attributes = update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert "spend" in attributes
    assert not {"blocked", "expires", "max_budget", "models", "team_id"} & set(attributes)
    assert actions["kms:Decrypt"] == [{"Fn::GetAtt": ["TenantCredentialsKey", "Arn"]}]
    assert "secretsmanager:GetSecretValue" in actions


def test_keys_function_manages_keys_and_reads_spend_logs(template: dict[str, Any]) -> None:
    actions = allowed_actions(template, "KeysFunction")
    for action in (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    ):
        assert {"Fn::GetAtt": ["KeysTable", "Arn"]} in actions[action], action
    assert {"Fn::GetAtt": ["SpendLogsTable", "Arn"]} in actions["dynamodb:Query"]
    spend_writes = [
        a
        for a, targets in actions.items()
        if a != "dynamodb:Query" and any("SpendLogsTable" in json.dumps(t) for t in targets)
    ]
    assert spend_writes == ["dynamodb:PutItem"]  # the spend-stream drain (issue 7), no more
    assert actions["dynamodb:PutItem"][-1] == {"Fn::GetAtt": ["SpendLogsTable", "Arn"]}
    assert actions["kms:Encrypt"] == [{"Fn::GetAtt": ["TenantCredentialsKey", "Arn"]}]
    assert "kms:Decrypt" not in actions


# -- routes ---------------------------------------------------------------------------------


def test_every_contract_route_is_an_explicit_api_event(template: dict[str, Any]) -> None:
    routes = api_routes(template)
    found = {(r.method, r.path): r.function for r in routes}

    assert len(routes) == len(found), "a method+path is routed twice"
    assert found == EXPECTED_ROUTES
    for route in routes:
        assert route.properties["RestApiId"] == {"Ref": "GatewayApi"}, route


def test_no_proxy_or_greedy_paths(template: dict[str, Any]) -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "proxy+" not in text
    assert all("{" not in route.path for route in api_routes(template))
    assert all(route.method != "ANY" for route in api_routes(template))


def test_completion_routes_stream_and_keys_routes_buffer(template: dict[str, Any]) -> None:
    for route in api_routes(template):
        mode = route.properties.get("ResponseTransferMode", "BUFFERED")
        expected = "RESPONSE_STREAM" if route.function == "CompletionFunction" else "BUFFERED"
        assert mode == expected, route


def test_contracts_document_lists_the_same_routes() -> None:
    text = CONTRACTS.read_text(encoding="utf-8")
    section = text.split("## Routes", 1)[1].split("\n## ", 1)[0]
    documented: dict[tuple[str, str], str] = {}
    for block in re.split(r"(?=\b(?:CompletionFunction|KeysFunction):)", section):
        name, _, body = block.partition(":")
        for method, path in re.findall(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[\w/.-]*)", body):
            documented[(method, path.rstrip("."))] = name.strip()
    assert documented == EXPECTED_ROUTES


def test_gateway_responses_use_the_openai_error_envelope(res: dict[str, Any]) -> None:
    responses = res["GatewayApi"]["Properties"]["GatewayResponses"]
    required = {
        "MISSING_AUTHENTICATION_TOKEN": "404",
        "THROTTLED": "429",
        "REQUEST_TOO_LARGE": "413",
        "DEFAULT_4XX": None,
        "DEFAULT_5XX": None,
    }
    for kind, status in required.items():
        assert kind in responses, kind
        if status:
            assert str(responses[kind]["StatusCode"]) == status, kind
    for kind, response in responses.items():
        body = response["ResponseTemplates"]["application/json"]
        rendered = body.replace("$context.error.messageString", '"message from API Gateway"')
        error = json.loads(rendered)["error"]
        assert set(error) == {"message", "type", "param", "code"}, kind
        assert error["message"] and error["type"] and error["code"], kind


def test_api_is_a_rest_api(res: dict[str, Any]) -> None:
    api = res["GatewayApi"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert "DefinitionUri" not in api["Properties"]


# -- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_function_runtime_architecture_and_explicit_limits(
    template: dict[str, Any], logical_id: str
) -> None:
    own = template["Resources"][logical_id]["Properties"]
    props = function_props(template, logical_id)

    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Tracing"] == "Active"
    assert "MemorySize" in own and "Timeout" in own
    assert {"SubnetIds", "SecurityGroupIds"} <= set(props["VpcConfig"])
    assert {"Ref": "SharedLayer"} in own["Layers"]
    assert template["Resources"][logical_id]["Metadata"]["BuildMethod"] == "makefile"


def test_function_handlers_and_code(template: dict[str, Any]) -> None:
    completion = template["Resources"]["CompletionFunction"]["Properties"]
    keys = template["Resources"]["KeysFunction"]["Properties"]

    assert completion["CodeUri"] == "functions/completion"
    assert keys["CodeUri"] == "functions/keys"
    assert keys["Handler"] == "keys_api.app.handler"
    # Lambda Web Adapter runs run.sh; the Mangum handler is the documented fallback.
    assert completion["Handler"] == "run.sh"
    assert (ROOT / "functions/completion/run.sh").stat().st_mode & 0o111
    assert "completion_api.app:app" in (ROOT / "functions/completion/run.sh").read_text()
    assert "completion_api.app.handler" in (ROOT / "template.yaml").read_text()


def test_completion_function_runs_under_lambda_web_adapter(template: dict[str, Any]) -> None:
    env = env_vars(template, "CompletionFunction")
    layers = json.dumps(template["Resources"]["CompletionFunction"]["Properties"]["Layers"])

    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/health/liveliness"
    assert env["PORT"] == env["AWS_LWA_PORT"] == "8080"
    assert ":753240598075:layer:LambdaAdapterLayerArm64:" in layers


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_function_environment(template: dict[str, Any], logical_id: str) -> None:
    env = env_vars(template, logical_id)

    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["LITELLM_OFFLINE_MODE"] == "true"
    assert env["HF_HUB_OFFLINE"] == "1"
    for name in (
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
        "GATEWAY_ENV",
        "REDIS_URL",
        "KEYS_TABLE",
        "SPEND_LOGS_TABLE",
        "LITELLM_MASTER_KEY",
        "KEY_PEPPER",
        "GATEWAY_CONFIG",
        "MAX_REQUEST_BYTES",
    ):
        assert name in env, name
    assert env["KEYS_TABLE"] == {"Ref": "KeysTable"}
    assert env["SPEND_LOGS_TABLE"] == {"Ref": "SpendLogsTable"}


def test_secrets_are_generated_never_literal(template: dict[str, Any], res: dict[str, Any]) -> None:
    for logical_id in ("MasterKeySecret", "KeyPepperSecret"):
        assert "GenerateSecretString" in res[logical_id]["Properties"], logical_id
        assert "SecretString" not in res[logical_id]["Properties"], logical_id
    for logical_id in FUNCTIONS:
        env = env_vars(template, logical_id)
        for name in ("LITELLM_MASTER_KEY", "KEY_PEPPER", "REDIS_URL"):
            assert "{{resolve:secretsmanager:" in json.dumps(env[name]), (logical_id, name)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_function_logs_go_to_a_log_group_with_retention(
    res: dict[str, Any], logical_id: str
) -> None:
    group = res[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert res[group]["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in res[group]["Properties"]


def test_every_log_group_has_retention(template: dict[str, Any]) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())


# -- tables ---------------------------------------------------------------------------------


def key_schema(schema: list[Mapping[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def gsis(props: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    indexes = props.get("GlobalSecondaryIndexes", [])
    assert all(ix["Projection"]["ProjectionType"] == "ALL" for ix in indexes)
    return {ix["IndexName"]: key_schema(ix["KeySchema"]) for ix in indexes}


def attribute_types(props: Mapping[str, Any]) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}


@pytest.mark.parametrize("logical_id", ["KeysTable", "SpendLogsTable"])
def test_table_is_on_demand_with_pitr_ttl_and_sse(
    template: dict[str, Any], logical_id: str
) -> None:
    props = tables(template)[logical_id]

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain"


def test_keys_table_schema(template: dict[str, Any]) -> None:
    props = tables(template)["KeysTable"]

    assert key_schema(props["KeySchema"]) == [("key_hash", "HASH")]
    assert gsis(props) == {
        "team_id-index": [("team_id", "HASH"), ("created_at", "RANGE")],
        "user_id-index": [("user_id", "HASH"), ("created_at", "RANGE")],
    }
    assert attribute_types(props) == {
        "key_hash": "S",
        "team_id": "S",
        "user_id": "S",
        "created_at": "S",
    }


def test_spend_logs_table_schema(template: dict[str, Any]) -> None:
    props = tables(template)["SpendLogsTable"]

    assert key_schema(props["KeySchema"]) == [("key_hash", "HASH"), ("sk", "RANGE")]
    assert gsis(props) == {"team_id-index": [("team_id", "HASH"), ("sk", "RANGE")]}
    assert attribute_types(props) == {"key_hash": "S", "sk": "S", "team_id": "S"}


# -- cache, secrets, layer ------------------------------------------------------------------


def test_cache_is_valkey_82_node_based_with_tls_and_auth(res: dict[str, Any]) -> None:
    cache = res["CacheCluster"]
    props = cache["Properties"]

    assert cache["Type"] == "AWS::ElastiCache::ReplicationGroup"
    assert props["Engine"] == "valkey"
    assert str(props["EngineVersion"]) == "8.2"
    assert props["TransitEncryptionEnabled"] is True
    assert props["AtRestEncryptionEnabled"] is True
    assert "{{resolve:secretsmanager:" in json.dumps(props["AuthToken"])
    assert props["CacheSubnetGroupName"] == {"Ref": "CacheSubnetGroup"}


def test_spend_flusher_only_persists_spend_every_minute(
    template: dict[str, Any], res: dict[str, Any]
) -> None:
    actions = allowed_actions(template, "SpendFlushFunction")
    keys_arn = {"Fn::GetAtt": ["KeysTable", "Arn"]}
    assert actions == {
        "dynamodb:GetItem": [keys_arn],
        "dynamodb:UpdateItem": [keys_arn],
        "dynamodb:PutItem": [{"Fn::GetAtt": ["SpendLogsTable", "Arn"]}],
    }
    [update] = statements_with(template, "SpendFlushFunction", "dynamodb:UpdateItem")
    [completion] = statements_with(template, "CompletionFunction", "dynamodb:UpdateItem")
    assert update["Condition"] == completion["Condition"]
    props = res["SpendFlushFunction"]["Properties"]
    assert props["Layers"] == [{"Ref": "SharedLayer"}]
    assert props["Events"]["EveryMinute"]["Type"] == "Schedule"
    assert props["Events"]["EveryMinute"]["Properties"]["Schedule"] == "rate(1 minute)"
    # The stream and counters carry no TTL: only a volatile-* policy keeps them from eviction
    params = res["CacheParameterGroup"]["Properties"]["Properties"]
    assert params["maxmemory-policy"].startswith("volatile-")


def test_contract_logical_ids_exist(res: dict[str, Any]) -> None:
    expected = {
        "GatewayApi": "AWS::Serverless::Api",
        "SharedLayer": "AWS::Serverless::LayerVersion",
        "CompletionFunction": "AWS::Serverless::Function",
        "KeysFunction": "AWS::Serverless::Function",
        "SpendFlushFunction": "AWS::Serverless::Function",
        "KeysTable": "AWS::DynamoDB::Table",
        "SpendLogsTable": "AWS::DynamoDB::Table",
        "CacheCluster": "AWS::ElastiCache::ReplicationGroup",
        "MasterKeySecret": "AWS::SecretsManager::Secret",
        "KeyPepperSecret": "AWS::SecretsManager::Secret",
    }
    assert {k: res[k]["Type"] for k in expected} == expected


def test_shared_layer_is_built_by_its_makefile(res: dict[str, Any]) -> None:
    layer = res["SharedLayer"]

    assert layer["Properties"]["ContentUri"] == "layers/llmlingua"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert "build-SharedLayer:" in (ROOT / "layers/llmlingua/Makefile").read_text()


def test_outputs(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "KeysTableName", "SpendLogsTableName", "CacheEndpoint"} <= set(
        template["Outputs"]
    )


# -- build inputs (hashed locks) ------------------------------------------------------------

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s\\;]+)", re.M)


def locked(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    pins = {name.lower(): version for name, _extras, version in REQUIREMENT.findall(text)}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    for block in blocks:
        if REQUIREMENT.match(block):
            assert "--hash=sha256:" in block, f"{path}: unhashed {block.splitlines()[0]}"
    return pins


LOCKS = {
    "layer": ROOT / "layers/llmlingua/requirements.txt",
    "completion": ROOT / "functions/completion/requirements.txt",
    "sam": ROOT / "requirements/sam.txt",
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_locks_are_exact_and_hashed(lock: str) -> None:
    assert locked(LOCKS[lock])


def test_completion_lock_pins_the_vetted_litellm_and_nothing_the_layer_has() -> None:
    completion = locked(LOCKS["completion"])
    layer = locked(LOCKS["layer"])

    assert completion["litellm"] == "1.110.2"
    assert "uvicorn" in completion
    assert not set(completion) & set(layer)


def test_layer_lock_has_the_shared_libraries_and_no_litellm_or_boto3() -> None:
    layer = locked(LOCKS["layer"])

    for name in (
        "fastapi",
        "mangum",
        "aws-lambda-powertools",
        "redis",
        "pydantic",
        "pydantic-settings",
        "prometheus-client",
        "pyyaml",
    ):
        assert name in layer, name
    assert not {"litellm", "boto3", "botocore"} & set(layer)


def test_lambda_locks_match_the_local_runtime_versions() -> None:
    runtime = locked(ROOT / "requirements/runtime.txt")
    for lock in ("layer", "completion"):
        for name, version in locked(LOCKS[lock]).items():
            if name in runtime:
                assert runtime[name] == version, (lock, name)


def test_sam_cli_is_pinned_exactly() -> None:
    assert re.search(r"^aws-sam-cli==\S+$", (ROOT / "requirements/sam.in").read_text(), re.M)
    assert "aws-sam-cli" in locked(LOCKS["sam"])


def test_keys_function_build_inputs_carry_no_litellm() -> None:
    keys_dir = ROOT / "functions/keys"
    requirement_line = re.compile(r"^\s*litellm\b", re.M | re.I)
    for path in keys_dir.rglob("*"):
        if path.is_file() and (path.name.startswith("requirements") or path.suffix == ".in"):
            assert not requirement_line.search(path.read_text()), path
    makefile = (keys_dir / "Makefile").read_text()
    assert "pip" not in makefile and "requirements" not in makefile
    for source in (keys_dir / "keys_api").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+litellm\b", source.read_text(), re.M), source


def test_build_installs_only_hashed_arm64_wheels() -> None:
    for makefile in ("layers/llmlingua/Makefile", "functions/completion/Makefile"):
        text = (ROOT / makefile).read_text()
        for flag in (
            "--platform manylinux2014_aarch64",
            "--python-version 3.12",
            "--only-binary=:all:",
            "--no-deps",
            "--require-hashes",
        ):
            assert flag in text, (makefile, flag)


# -- devstack.cfn ---------------------------------------------------------------------------


def test_cfn_loader_turns_short_tags_into_long_form() -> None:
    doc = loads(
        "A: !Ref X\n"
        "B: !GetAtt T.Arn\n"
        "C: !Sub '${X}-y'\n"
        "D: !If [Cond, !Ref X, !Ref AWS::NoValue]\n"
        "E: !Equals [!Ref S, prod]\n"
        "F: !Select [0, !GetAZs '']\n"
        "G: !Sub\n  - '${V}'\n  - {V: !GetAtt [R, Port]}\n"
    )

    assert doc["A"] == {"Ref": "X"}
    assert doc["B"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert doc["C"] == {"Fn::Sub": "${X}-y"}
    assert doc["D"] == {"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}
    assert doc["E"] == {"Fn::Equals": [{"Ref": "S"}, "prod"]}
    assert doc["F"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert doc["G"] == {"Fn::Sub": ["${V}", {"V": {"Fn::GetAtt": ["R", "Port"]}}]}
