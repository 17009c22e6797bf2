"""The dashboards query only metrics the gateway emits (no drift between code and dashboards)."""

from __future__ import annotations

import json
import re

from gateway.metrics.definitions import SPECS

from devstack.cfn import load_template
from devstack.stack import ROOT, TEMPLATE

GRAFANA = ROOT / "dashboards" / "grafana-llm-gateway.json"
EMF_SOURCE = ROOT / "layers" / "llmlingua" / "gateway" / "metrics" / "emf.py"


def _exported_names() -> set[str]:
    names = {"litellm_metrics_store_up"}
    for spec in SPECS:
        if spec.kind == "counter":
            names.add(f"{spec.name}_total")
        else:
            names.update(f"{spec.name}_{suffix}" for suffix in ("bucket", "sum", "count"))
    return names


def test_grafana_queries_use_exported_prometheus_names() -> None:
    dashboard = json.loads(GRAFANA.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\blitellm_[a-z_]+", expr)}
    assert used and used <= _exported_names(), used - _exported_names()


def test_cloudwatch_dashboard_uses_emf_metric_names() -> None:
    body = load_template(TEMPLATE)["Resources"]["GatewayDashboard"]["Properties"]["DashboardBody"]
    text = body["Fn::Sub"] if isinstance(body, dict) else body
    json.loads(text.replace("${AWS::Region}", "r").replace("${CompletionFunction}", "f")
               .replace("${CompletionLogGroup}", "g"))  # fmt: skip
    used = set(re.findall(r'MetricName=\\"([A-Za-z]+)\\"', text))
    emitted = set(re.findall(r'name="([A-Za-z]+)"', EMF_SOURCE.read_text()))
    assert used and used <= emitted, used - emitted
