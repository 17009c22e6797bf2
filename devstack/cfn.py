"""Read a CloudFormation/SAM template (YAML with short-form intrinsics) as plain data.

`yaml.safe_load` rejects `!Ref`, `!Sub`, `!GetAtt` ...; this loader turns each short tag into
the long form CloudFormation itself uses (`!Ref X` -> `{"Ref": "X"}`, `!Sub s` ->
`{"Fn::Sub": s}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`), so tests and the local stack
read tables and routes from the one `template.yaml` that is deployed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"

# Short tags whose long form is not simply "Fn::<Tag>".
_SPECIAL = {"Ref": "Ref", "Condition": "Condition"}


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that also understands CloudFormation short-form intrinsic tags."""


def _construct_node(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(
        None, None, f"unexpected node {node!r}", node.start_mark
    )


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value = _construct_node(loader, node)
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {_SPECIAL.get(tag_suffix, f"Fn::{tag_suffix}"): value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def loads(text: str) -> dict[str, Any]:
    """Parse template text into plain dicts and lists."""
    data = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise ValueError("a template must be a mapping at the top level")
    return data


def load_template(path: str | Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse the template file at `path` (default: the repository's template.yaml)."""
    return loads(Path(path).read_text(encoding="utf-8"))


def resources(template: Mapping[str, Any], resource_type: str | None = None) -> dict[str, Any]:
    """Logical id -> resource, optionally only those of `resource_type`."""
    found = template.get("Resources") or {}
    return {
        logical_id: resource
        for logical_id, resource in found.items()
        if resource_type is None or resource.get("Type") == resource_type
    }


@dataclass(frozen=True)
class Route:
    """One `Type: Api` event of a function: what API Gateway sends to which function."""

    function: str
    method: str
    path: str
    event: str
    properties: Mapping[str, Any]


def api_routes(template: Mapping[str, Any]) -> list[Route]:
    """Every `Api` event of every `AWS::Serverless::Function`, in template order."""
    return list(_iter_routes(template))


def _iter_routes(template: Mapping[str, Any]) -> Iterator[Route]:
    for logical_id, resource in resources(template, "AWS::Serverless::Function").items():
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_id, event in events.items():
            if event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            yield Route(
                function=logical_id,
                method=str(props["Method"]).upper(),
                path=str(props["Path"]),
                event=event_id,
                properties=props,
            )


def tables(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Logical id -> Properties of each `AWS::DynamoDB::Table`."""
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in resources(template, "AWS::DynamoDB::Table").items()
    }
