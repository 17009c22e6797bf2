"""A local DynamoDB (moto server in a child process) and tables built from a template.

A subprocess (rather than `ThreadedMotoServer`) keeps moto off the test process's GIL:
with 8 concurrent client threads it served put+get pairs ~1.5x faster, and several
gateway server processes can share it over HTTP.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from devstack.ports import LOOPBACK, free_port, port_is_open, wait_port_closed

REGION = "us-east-1"
DEFAULT_TABLE_NAMES: dict[str, str] = {
    "KeysTable": "gateway-keys",
    "SpendLogsTable": "gateway-spend-logs",
}
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")

# moto's server with one request at a time. moto's DynamoDB backend is not thread-safe: with 16
# client threads on one item, 400 concurrent `ADD`s ended at 399, and of 400 two-item
# transactions 10 failed with HTTP 500 and 4 more were lost. Real DynamoDB serialises writes to
# an item, so the local stack must too, or exact-spend tests and demos under load lose money.
_SERVER_CODE = r"""
import logging, sys, threading
logging.getLogger("werkzeug").setLevel(logging.WARNING)
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app,
)
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def serial(environ, start_response):
    with lock:
        return list(app(environ, start_response))

run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True, request_handler=MotoRequestHandler)
"""


def dynamodb_client(endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 DynamoDB client for a local endpoint, with dummy credentials."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy, local endpoint only
    )


class LocalDynamoDB:
    """moto server on 127.0.0.1; use as `with LocalDynamoDB() as db: db.endpoint_url`."""

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._dir: Path | None = None
        self._log: IO[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalDynamoDB is not started")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, service: str = "dynamodb") -> Any:
        """A boto3 client of `service` (dynamodb, kms, ...) on this moto server."""
        if service == "dynamodb":
            return dynamodb_client(self.endpoint_url)
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - dummy, local endpoint only
        )

    def log_tail(self, lines: int = 20) -> str:
        if self._dir is None or not (self._dir / "moto.log").exists():
            return ""
        text = (self._dir / "moto.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def start(self, port: int | None = None) -> LocalDynamoDB:
        """Start moto server (free port if None), wait until it answers, warm DynamoDB."""
        if self.running:
            raise RuntimeError("LocalDynamoDB already started")
        chosen = port if port is not None else free_port()
        if port_is_open(chosen):
            raise RuntimeError(f"port {chosen} is already in use")
        self._dir = Path(tempfile.mkdtemp(prefix="devstack-moto-"))
        self._log = (self._dir / "moto.log").open("wb")
        self._port = chosen
        self._proc = subprocess.Popen(  # noqa: S603 - our interpreter, fixed code
            [sys.executable, "-c", _SERVER_CODE, LOOPBACK, str(chosen)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self._dir,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready()
            self.client().list_tables()  # first DynamoDB call loads the backend (~0.3 s)
        except Exception as exc:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"moto server failed to start: {exc}; log tail:\n{tail}") from None
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._proc.returncode}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                url = f"{self.endpoint_url}/moto-api/"
                with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        return
            time.sleep(0.05)
        raise RuntimeError(f"moto server not ready in {self.startup_timeout}s")

    def reset(self) -> None:
        """Drop all moto state (every table)."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310 - loopback
            pass

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM then SIGKILL, bounded; idempotent."""
        atexit.unregister(self.stop)
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
            if self._port is not None:
                wait_port_closed(self._port, timeout=1.0)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._proc = None

    def __enter__(self) -> LocalDynamoDB:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- tables from a CloudFormation/SAM template ---------------------------------------


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key == "Ref" or key.startswith("Fn::")


def _literal(value: Any, default: Any) -> Any:
    """`value` unless it is missing or an unresolved intrinsic function."""
    return default if value is None or _is_intrinsic(value) else value


_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")
_SIMPLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _table_request(resource_type: str, props: Mapping[str, Any], name: str) -> dict[str, Any]:
    throughput = _literal(props.get("ProvisionedThroughput"), None)
    if resource_type == "AWS::Serverless::SimpleTable":
        pk = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        attr_type = _SIMPLE_TYPES.get(pk.get("Type", "String"), "S")
        request: dict[str, Any] = {
            "AttributeDefinitions": [{"AttributeName": pk["Name"], "AttributeType": attr_type}],
            "KeySchema": [{"AttributeName": pk["Name"], "KeyType": "HASH"}],
        }
    else:
        request = {
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
        }
    default_mode = "PROVISIONED" if throughput else "PAY_PER_REQUEST"
    mode = _literal(props.get("BillingMode"), default_mode)
    request["TableName"] = name
    request["BillingMode"] = mode
    if mode == "PROVISIONED":
        request["ProvisionedThroughput"] = throughput or {
            "ReadCapacityUnits": 5,
            "WriteCapacityUnits": 5,
        }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = _literal(props.get(key), None)
        if indexes:
            allowed: tuple[str, ...] = _INDEX_KEYS
            if key == "GlobalSecondaryIndexes" and mode == "PROVISIONED":
                allowed += ("ProvisionedThroughput",)
            request[key] = [{k: v for k, v in ix.items() if k in allowed} for ix in indexes]
    stream = _literal(props.get("StreamSpecification"), None)
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def create_tables_from_template(
    client: Any, template: Mapping[str, Any], names: Mapping[str, str]
) -> list[str]:
    """Create each table resource whose logical id is in `names`, named `names[id]`.

    Copies keys, indexes and billing mode; applies TTL and point-in-time recovery.
    Tables that already exist are left alone. Returns the table names, in `names` order.
    """
    resources = template.get("Resources") or {}
    tables = {
        lid: res
        for lid, res in resources.items()
        if isinstance(res, Mapping) and res.get("Type") in TABLE_TYPES
    }
    missing = [lid for lid in names if lid not in tables]
    if missing:
        raise ValueError(f"template has no table resource(s) {missing}")
    existing = set(_list_tables(client))
    result: list[str] = []
    for lid, name in names.items():
        result.append(name)
        if name in existing:
            continue
        res = tables[lid]
        props = res.get("Properties") or {}
        client.create_table(**_table_request(res["Type"], props, name))
        ttl = _literal(props.get("TimeToLiveSpecification"), None)
        if ttl and _literal(ttl.get("Enabled"), False) is True:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = _literal(props.get("PointInTimeRecoverySpecification"), None)
        if pitr and _literal(pitr.get("PointInTimeRecoveryEnabled"), False) is True:
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
    return result


def _list_tables(client: Any) -> list[str]:
    names: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(**kwargs)
        names += page.get("TableNames", [])
        if not page.get("LastEvaluatedTableName"):
            return names
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
