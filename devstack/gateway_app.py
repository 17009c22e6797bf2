"""Both functions' apps behind one API-Gateway-like dispatcher (routes read from template.yaml)."""

from __future__ import annotations

from completion_api.app import app as completion_app
from keys_api.app import app as keys_app

from devstack.apigw import build_dispatcher
from devstack.cfn import load_template
from devstack.stack import TEMPLATE

app = build_dispatcher(
    load_template(TEMPLATE), {"CompletionFunction": completion_app, "KeysFunction": keys_app}
)
