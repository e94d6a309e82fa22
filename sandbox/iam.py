"""Identity-based IAM policies from the template, and what AWS authorizes for each DynamoDB / SSM request.

Locally every function talks to moto, which allows everything; on AWS each call is checked against the
function's role. A missing action in `infra/template.yaml` (say `dynamodb:BatchGetItem`) then only shows
up after a deploy, as an AccessDeniedException in production. This module reproduces that check:
`function_policies` reads each function's inline statements, `*_authorizations` lists the
(action, resource) pairs AWS evaluates for one request, and `evaluate` applies IAM's rules to them
(explicit Deny wins, then any Allow, else the implicit deny).

Only identity-based policies of one role are modelled: no resource policies, permission boundaries,
session policies or SCPs (the template uses none for the functions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sandbox.cfn import CfnResolver

__all__ = [
    "PolicyError",
    "Statement",
    "UnsupportedRequest",
    "decide",
    "dynamodb_authorizations",
    "evaluate",
    "function_policies",
    "parameter_arn",
    "ssm_authorizations",
    "table_arn",
    "table_name",
]

Context = Mapping[str, str | Sequence[str]]


class PolicyError(ValueError):
    """A policy uses something this emulation cannot evaluate faithfully (so it refuses to guess)."""


class UnsupportedRequest(ValueError):
    """A request whose IAM authorization this module does not know how to compute."""


@dataclass(frozen=True)
class Statement:
    """One statement of an identity-based policy, with intrinsic functions already resolved."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default=())
    sid: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        """Validates one statement the way IAM's policy validator would reject it, then keeps it."""
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
        if "Principal" in raw or "NotPrincipal" in raw:
            raise PolicyError(f"an identity-based policy statement cannot name a Principal: {raw!r}")
        unknown = set(raw) - known
        if unknown:
            raise PolicyError(f"statement has unknown elements {sorted(unknown)}: {raw!r}")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"statement Effect must be Allow or Deny: {raw!r}")
        if ("Action" in raw) == ("NotAction" in raw):
            raise PolicyError(f"statement needs exactly one of Action / NotAction: {raw!r}")
        if ("Resource" in raw) == ("NotResource" in raw):
            raise PolicyError(f"statement needs exactly one of Resource / NotResource: {raw!r}")
        resources = _strings(raw.get("Resource", ()), "Resource")
        not_resources = _strings(raw.get("NotResource", ()), "NotResource")
        for pattern in (*resources, *not_resources):
            if "${" in pattern:
                raise PolicyError(f"IAM policy variables are not emulated: {pattern!r}")
        return cls(
            effect=effect,
            actions=_strings(raw.get("Action", ()), "Action"),
            not_actions=_strings(raw.get("NotAction", ()), "NotAction"),
            resources=resources,
            not_resources=not_resources,
            conditions=_parse_conditions(raw.get("Condition") or {}),
            sid=raw.get("Sid"),
        )

    def applies(self, action: str, resource: str, context: Context) -> bool:
        """Whether this statement covers the request (its Effect is then what it contributes)."""
        if self.actions:
            action_ok = any(_action_matches(pattern, action) for pattern in self.actions)
        else:
            action_ok = not any(_action_matches(pattern, action) for pattern in self.not_actions)
        if not action_ok:
            return False
        if self.resources:
            resource_ok = any(_resource_matches(pattern, resource) for pattern in self.resources)
        else:
            resource_ok = not any(_resource_matches(pattern, resource) for pattern in self.not_resources)
        return resource_ok and all(_condition_holds(op, key, values, context) for op, key, values in self.conditions)


# ---------------------------------------------------------------------------------------------- policies


def function_policies(template: Mapping[str, Any], resolver: CfnResolver) -> dict[str, list[Statement]]:
    """Logical id -> the statements of every `AWS::Serverless::Function`'s inline `Policies`.

    SAM policy templates (`DynamoDBCrudPolicy: ...`) and managed policy names / ARNs are refused: the
    project writes its access out statement by statement, and expanding them here would be a second,
    possibly different, copy of SAM's definitions.
    """
    result: dict[str, list[Statement]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties") or {}
        if "Role" in properties:
            raise PolicyError(f"{logical_id} names its own Role; only SAM-generated roles are emulated")
        raw_policies = resolver.resolve(properties.get("Policies", []))
        if isinstance(raw_policies, (str, dict)):
            raw_policies = [raw_policies]
        statements: list[Statement] = []
        for policy in raw_policies or []:
            if isinstance(policy, str):
                raise PolicyError(f"{logical_id}: managed policy {policy!r} is not emulated; write the statements")
            if not isinstance(policy, dict) or "Statement" not in policy:
                raise PolicyError(f"{logical_id}: SAM policy template {policy!r} is not emulated; write the statements")
            raw_statements = policy["Statement"]
            if isinstance(raw_statements, dict):
                raw_statements = [raw_statements]
            statements.extend(Statement.parse(raw) for raw in raw_statements)
        result[logical_id] = statements
    return result


def evaluate(statements: Iterable[Statement], action: str, resource: str, context: Context | None = None) -> bool:
    """IAM's evaluation logic for one identity: an explicit Deny wins, else any Allow, else deny."""
    return decide(statements, action, resource, context) == "Allow"


def decide(statements: Iterable[Statement], action: str, resource: str, context: Context | None = None) -> str:
    """One of Allow / ExplicitDeny / ImplicitDeny: AWS words its AccessDenied message differently for each."""
    allowed = False
    for statement in statements:
        if statement.applies(action, resource, context or {}):
            if statement.effect == "Deny":
                return "ExplicitDeny"
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


# ---------------------------------------------------------------------------------------------- requests

Authorization = tuple[str, str]


def table_name(name_or_arn: str) -> str:
    """DynamoDB accepts a table's name or its ARN wherever a TableName goes."""
    if name_or_arn.startswith("arn:"):
        resource = name_or_arn.split(":", 5)[5]
        return resource.split("/")[1]
    return name_or_arn


def table_arn(name_or_arn: str, region: str, account: str) -> str:
    if name_or_arn.startswith("arn:"):
        return "/".join(name_or_arn.split("/")[:2])
    return f"arn:aws:dynamodb:{region}:{account}:table/{name_or_arn}"


def dynamodb_authorizations(target: str, body: Mapping[str, Any], region: str, account: str) -> list[Authorization]:
    """(action, resource ARN) pairs AWS authorizes for one DynamoDB JSON request; all must be allowed.

    `target` is the X-Amz-Target header (`DynamoDB_20120810.GetItem`). Transactions are authorized per
    item with the item-level action: there is no `dynamodb:TransactWriteItems` action in IAM.
    """
    operation = target.rsplit(".", 1)[-1]

    def arn(name: str) -> str:
        return table_arn(name, region, account)

    pairs: list[Authorization] = []
    if operation in ("Query", "Scan"):
        resource = arn(body["TableName"])
        if body.get("IndexName"):
            resource = f"{resource}/index/{body['IndexName']}"
        pairs.append((f"dynamodb:{operation}", resource))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        pairs.extend((f"dynamodb:{operation}", arn(name)) for name in body.get("RequestItems") or {})
    elif operation == "TransactWriteItems":
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        for item in body.get("TransactItems") or []:
            for kind, operation_body in item.items():
                if kind not in actions:
                    raise UnsupportedRequest(f"unknown TransactWriteItems member {kind!r}")
                pairs.append((f"dynamodb:{actions[kind]}", arn(operation_body["TableName"])))
    elif operation == "TransactGetItems":
        pairs.extend(("dynamodb:GetItem", arn(item["Get"]["TableName"])) for item in body.get("TransactItems") or [])
    elif operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        raise UnsupportedRequest(f"PartiQL ({operation}) authorization is not emulated")
    elif "TableName" in body:
        pairs.append((f"dynamodb:{operation}", arn(body["TableName"])))
    elif "ResourceArn" in body:
        pairs.append((f"dynamodb:{operation}", body["ResourceArn"]))
    else:
        # ListTables, DescribeLimits, DescribeEndpoints...: account-level actions, authorized on "*".
        pairs.append((f"dynamodb:{operation}", "*"))
    return _unique(pairs)


def parameter_arn(name: str, region: str, account: str) -> str:
    """The ARN IAM sees for a parameter name ("/a/b" and "a" alike); a version or label selector is dropped."""
    if name.startswith("arn:"):
        prefix, _, rest = name.partition(":parameter/")
        return f"{prefix}:parameter/{rest.split(':', 1)[0]}"
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.split(':', 1)[0].lstrip('/')}"


def ssm_authorizations(target: str, body: Mapping[str, Any], region: str, account: str) -> list[Authorization]:
    """(action, resource ARN) pairs AWS authorizes for one SSM JSON request (X-Amz-Target `AmazonSSM.<Op>`).

    GetParameters is authorized per name: one name the policy does not cover denies the whole call
    (AWS answers AccessDeniedException, not a partial result with InvalidParameters).
    """
    operation = target.rsplit(".", 1)[-1]
    action = f"ssm:{operation}"

    def arn(name: str) -> str:
        return parameter_arn(name, region, account)

    if "Names" in body:
        return _unique((action, arn(name)) for name in body["Names"])
    if "Name" in body:
        return [(action, arn(body["Name"]))]
    if "Path" in body:
        return [(action, arn(body["Path"]))]
    if operation in ("DescribeParameters",):
        return [(action, "*")]
    raise UnsupportedRequest(f"SSM {operation} authorization is not emulated")


# ---------------------------------------------------------------------------------------------- matching


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{what} must be a string or a list of strings, got {value!r}")
    return tuple(items)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters (across `:` and `/`), `?` exactly one."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"\\A{regex}\\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, True).match(action) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    return _glob(pattern, False).match(resource) is not None


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, expected: value == expected,
    "StringNotEquals": lambda value, expected: value == expected,
    "StringEqualsIgnoreCase": lambda value, expected: value.lower() == expected.lower(),
    "StringNotEqualsIgnoreCase": lambda value, expected: value.lower() == expected.lower(),
    "StringLike": lambda value, expected: _glob(expected, False).match(value) is not None,
    "StringNotLike": lambda value, expected: _glob(expected, False).match(value) is not None,
    "ArnEquals": lambda value, expected: _glob(expected, False).match(value) is not None,
    "ArnLike": lambda value, expected: _glob(expected, False).match(value) is not None,
    "ArnNotEquals": lambda value, expected: _glob(expected, False).match(value) is not None,
    "ArnNotLike": lambda value, expected: _glob(expected, False).match(value) is not None,
    "Bool": lambda value, expected: value.lower() == expected.lower(),
}
_NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


def _parse_conditions(raw: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict):
        raise PolicyError(f"Condition must be a mapping, got {raw!r}")
    parsed = []
    for operator, clauses in raw.items():
        base = operator.split(":", 1)[-1].removesuffix("IfExists")
        if base not in _OPERATORS and base != "Null":
            raise PolicyError(f"condition operator {operator!r} is not emulated")
        if not isinstance(clauses, dict):
            raise PolicyError(f"condition {operator!r} needs a mapping of keys to values, got {clauses!r}")
        for key, values in clauses.items():
            items = values if isinstance(values, list) else [values]
            parsed.append((operator, key, tuple(_condition_str(item) for item in items)))
    return tuple(parsed)


def _condition_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise PolicyError(f"condition value {value!r} is not a string")


def _condition_holds(operator: str, key: str, expected: tuple[str, ...], context: Context) -> bool:
    """One condition clause. Keys are case-insensitive; a key missing from the request context makes the
    clause false (true for `...IfExists`, `Null: true`, and `ForAllValues:`), as IAM documents."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    present = {k.lower(): v for k, v in context.items()}
    raw = present.get(key.lower())
    if base == "Null":
        return (raw is None) == (expected[0].lower() == "true")
    if raw is None:
        return if_exists or qualifier == "ForAllValues"
    values = [raw] if isinstance(raw, str) else list(raw)
    test = _OPERATORS[base]
    negated = base in _NEGATED

    def holds(value: str) -> bool:
        matched = any(test(value, option) for option in expected)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(holds(value) for value in values)
    return any(holds(value) for value in values)


def _unique(pairs: Iterable[Authorization]) -> list[Authorization]:
    return list(dict.fromkeys(pairs))
