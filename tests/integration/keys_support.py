"""A moto server that handles one request at a time, for the virtual-key fleet tests.

moto's own server (and so devstack's LocalDynamoDB) is threaded but moto's DynamoDB backend is
not thread-safe: measured with 16 client threads on one item, 400 concurrent `ADD`s ended at
399, and of 400 two-item transactions 10 failed with HTTP 500 and 4 of the rest were lost. Real
DynamoDB serialises writes to an item, so a test of exact spend under concurrency needs a local
DynamoDB that does too: this one puts a lock around moto's WSGI app.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from devstack.cfn import load_template
from devstack.dynamodb import create_tables_from_template, dynamodb_client
from devstack.ports import LOOPBACK, free_port
from devstack.stack import TEMPLATE

_SERVER = r"""
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


class SerialMoto:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, tables: dict[str, str], timeout: float = 30.0) -> SerialMoto:
        self._process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed code
            [sys.executable, "-c", _SERVER, LOOPBACK, str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("serial moto server did not start")
            time.sleep(0.05)
        create_tables_from_template(self.client("dynamodb"), load_template(TEMPLATE), tables)
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/moto-api/", timeout=1):  # noqa: S310
                return True
        except (OSError, urllib.error.URLError):
            return False

    def client(self, service: str) -> Any:
        if service == "dynamodb":
            return dynamodb_client(self.url)
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",  # noqa: S106 - moto
        )  # fmt: skip

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
