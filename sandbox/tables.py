"""DynamoDB tables created from `infra/template.yaml`: the template is the only schema."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"

# Environment variable (read by murmur.config) for each table's logical id in the template.
TABLE_ENV = {
    "UsersTable": "USERS_TABLE",
    "LinksTable": "LINKS_TABLE",
    "MessagesTable": "MESSAGES_TABLE",
    "OrdersTable": "ORDERS_TABLE",
    "PaymentsTable": "PAYMENTS_TABLE",
    "StateTable": "STATE_TABLE",
}


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form intrinsics (!Ref, !Sub, ...) as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@functools.lru_cache(maxsize=16)
def _parsed(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        parsed: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)
        return parsed


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain values; a copy of its own for each caller (tests change theirs). Parsed once per
    version of the file: pure-Python YAML takes ~60 ms, and a stack's start reads the template a dozen times."""
    stat = Path(path).stat()
    return copy.deepcopy(_parsed(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size))


def table_definitions(path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """Logical id -> the table's Properties, for every AWS::DynamoDB::Table in the template."""
    resources = load_template(path)["Resources"]
    return {name: res["Properties"] for name, res in resources.items() if res["Type"] == "AWS::DynamoDB::Table"}


def table_names(prefix: str) -> dict[str, str]:
    """Environment variables naming each table, as the template's Globals would set them."""
    return {env: f"{prefix}{logical}" for logical, env in TABLE_ENV.items()}


def create_tables(client: Any, prefix: str, path: Path = TEMPLATE) -> dict[str, str]:
    """Create every table of the template through a boto3 DynamoDB client; returns the env mapping."""
    for logical, props in table_definitions(path).items():
        kwargs: dict[str, Any] = {
            "TableName": f"{prefix}{logical}",
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        client.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(
                TableName=kwargs["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return table_names(prefix)
