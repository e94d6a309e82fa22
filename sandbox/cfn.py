"""A small CloudFormation intrinsic-function resolver for the local stack.

The sandbox reads `infra/template.yaml` for two things that CloudFormation would normally compute: each
function's environment and each function's IAM policy. Both contain `!Ref`, `!GetAtt`, `!Sub` and `!If`,
so they are resolved here the way CloudFormation resolves them, against physical ids that the sandbox
chose (table names with a random prefix, ...). Anything this module does not know raises `CfnError`
instead of guessing: a silently wrong ARN would make a policy allow or deny the wrong thing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["NO_VALUE", "CfnError", "CfnResolver"]


class CfnError(ValueError):
    """The template uses something this resolver cannot resolve (unknown reference, attribute, function)."""


class _NoValue:
    """`AWS::NoValue`: removes the property or list element that holds it."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)


class CfnResolver:
    """Resolves intrinsic functions in (parts of) one template, loaded with `sandbox.tables.load_template`.

    `physical_ids` maps a resource's logical id to its physical id (what `Ref` returns for most types:
    a table or bucket name, a function name; for a queue either its name or its URL). `parameter_values`
    override the parameters' `Default`s, as `--parameter-overrides` would.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        physical_ids: Mapping[str, str] | None = None,
        parameter_values: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.partition = "aws"
        self.url_suffix = "amazonaws.com"
        self.physical_ids = dict(physical_ids or {})
        self._parameters: Mapping[str, Any] = template.get("Parameters") or {}
        self._resources: Mapping[str, Any] = template.get("Resources") or {}
        self._conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self._mappings: Mapping[str, Any] = template.get("Mappings") or {}
        unknown = set(parameter_values or {}) - set(self._parameters)
        if unknown:
            raise CfnError(f"parameter_values names parameters the template does not have: {sorted(unknown)}")
        self._parameter_values = dict(parameter_values or {})
        self._condition_cache: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # ------------------------------------------------------------------ public

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its result; `AWS::NoValue` entries removed.

        A top-level `AWS::NoValue` resolves to None (there is no enclosing property to remove).
        """
        result = self._resolve(value)
        return None if result is NO_VALUE else result

    def condition(self, name: str) -> bool:
        """The value of a named entry of the template's `Conditions`."""
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name not in self._conditions:
            raise CfnError(f"unknown condition {name!r}; the template defines {sorted(self._conditions)}")
        if name in self._evaluating:
            raise CfnError(f"condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            result = self._condition_value(self._conditions[name])
        finally:
            self._evaluating.discard(name)
        self._condition_cache[name] = result
        return result

    def ref(self, name: str) -> Any:
        """What `{"Ref": name}` resolves to: a parameter, a pseudo parameter or a resource's physical id."""
        if name in _PSEUDO_PARAMETERS:
            return self._pseudo(name)
        if name in self._parameters:
            return self._parameter(name)
        if name in self._resources:
            return self._resource_ref(name)
        raise CfnError(f"Ref to {name!r}: neither a parameter, a pseudo parameter nor a resource of the template")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """What `Fn::GetAtt [logical_id, attribute]` resolves to, for the resource types the template uses."""
        resource = self._resources.get(logical_id)
        if resource is None:
            raise CfnError(f"GetAtt {logical_id}.{attribute}: no resource {logical_id!r} in the template")
        kind = resource.get("Type", "")
        arn = self._arn

        def physical() -> str:
            return self._physical_id(logical_id)

        table: dict[tuple[str, str], Any] = {
            ("AWS::DynamoDB::Table", "Arn"): lambda: arn("dynamodb", f"table/{physical()}"),
            ("AWS::SQS::Queue", "Arn"): lambda: arn("sqs", _queue_name(physical())),
            ("AWS::SQS::Queue", "QueueName"): lambda: _queue_name(physical()),
            ("AWS::SQS::Queue", "QueueUrl"): lambda: self._queue_url(physical()),
            ("AWS::SNS::Topic", "TopicArn"): lambda: self._topic_arn(physical()),
            ("AWS::SNS::Topic", "TopicName"): lambda: self._topic_arn(physical()).rsplit(":", 1)[1],
            ("AWS::Serverless::Function", "Arn"): lambda: arn("lambda", f"function:{physical()}"),
            ("AWS::Lambda::Function", "Arn"): lambda: arn("lambda", f"function:{physical()}"),
            ("AWS::Logs::LogGroup", "Arn"): lambda: arn("logs", f"log-group:{physical()}:*"),
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:{self.partition}:s3:::{physical()}",
            ("AWS::S3::Bucket", "DomainName"): lambda: f"{physical()}.s3.{self.url_suffix}",
            ("AWS::S3::Bucket", "RegionalDomainName"): lambda: f"{physical()}.s3.{self.region}.{self.url_suffix}",
            ("AWS::CloudWatch::Alarm", "Arn"): lambda: arn("cloudwatch", f"alarm:{physical()}"),
            ("AWS::IAM::Role", "Arn"): lambda: f"arn:{self.partition}:iam::{self.account_id}:role/{physical()}",
            ("AWS::CloudFront::Distribution", "DomainName"): lambda: f"{physical().lower()}.cloudfront.net",
            ("AWS::CloudFront::Distribution", "Id"): physical,
            ("AWS::CloudFront::OriginAccessControl", "Id"): physical,
            ("AWS::Serverless::HttpApi", "ApiEndpoint"): lambda: (
                f"https://{physical()}.execute-api.{self.region}.{self.url_suffix}"
            ),
        }
        getter = table.get((kind, attribute))
        if getter is None:
            raise CfnError(f"GetAtt {logical_id}.{attribute}: attribute {attribute!r} of {kind} is not emulated")
        return getter()

    # ------------------------------------------------------------------ resolution

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = (self._resolve(item) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(_expect_str(argument, "Ref"))
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = ((key, self._resolve(item)) for key, item in value.items())
        return {key: item for key, item in resolved if item is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = _get_att_parts(self._resolve(argument))
            return self.get_att(logical_id, attribute)
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::If":
            condition, if_true, if_false = _expect_list(argument, "Fn::If", 3)
            branch = if_true if self.condition(_expect_str(condition, "Fn::If condition")) else if_false
            return self._resolve(branch)
        if name == "Fn::Join":
            delimiter, items = _expect_list(argument, "Fn::Join", 2)
            parts = self._resolve(items)
            if not isinstance(parts, list):
                raise CfnError(f"Fn::Join needs a list to join, got {parts!r}")
            return _expect_str(self._resolve(delimiter), "Fn::Join delimiter").join(
                _scalar_str(part, "Fn::Join") for part in parts
            )
        if name == "Fn::Select":
            index, items = _expect_list(argument, "Fn::Select", 2)
            elements = self._resolve(items)
            position = int(self._resolve(index))
            if not isinstance(elements, list) or not 0 <= position < len(elements):
                raise CfnError(f"Fn::Select index {position} is outside {elements!r}")
            return elements[position]
        if name == "Fn::Split":
            delimiter, source = _expect_list(argument, "Fn::Split", 2)
            text = _expect_str(self._resolve(source), "Fn::Split source")
            return text.split(_expect_str(self._resolve(delimiter), "Fn::Split delimiter"))
        if name == "Fn::FindInMap":
            map_name, top, second = (self._resolve(part) for part in _expect_list(argument, "Fn::FindInMap", 3))
            try:
                return self._resolve(self._mappings[map_name][top][second])
            except (KeyError, TypeError):
                raise CfnError(f"Fn::FindInMap: no {map_name}/{top}/{second} in the template's Mappings") from None
        if name == "Fn::Base64":
            text = _expect_str(self._resolve(argument), "Fn::Base64")
            return base64.b64encode(text.encode("utf-8")).decode("ascii")
        if name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Condition"):
            # Condition functions used as values (rare, but legal inside Conditions-only contexts).
            return self._condition_value({name: argument})
        raise CfnError(f"intrinsic function {name} is not emulated")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = _expect_list(argument, "Fn::Sub", 2)
            if not isinstance(variables, dict):
                raise CfnError(f"Fn::Sub variables must be a mapping, got {variables!r}")
            values = {name: self._resolve(value) for name, value in variables.items()}
        else:
            text, values = argument, {}
        template = _expect_str(text, "Fn::Sub")

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in values:
                return _scalar_str(values[expression], f"Fn::Sub ${{{expression}}}")
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return _scalar_str(self.get_att(logical_id, attribute), f"Fn::Sub ${{{expression}}}")
            return _scalar_str(self.ref(expression), f"Fn::Sub ${{{expression}}}")

        return _SUB_VARIABLE.sub(replace, template)

    def _condition_value(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name in ("Condition", "Fn::Condition"):
                return self.condition(_expect_str(argument, name))
            if name == "Fn::Equals":
                left, right = _expect_list(argument, "Fn::Equals", 2)
                return bool(_comparable(self._resolve(left)) == _comparable(self._resolve(right)))
            if name == "Fn::Not":
                (inner,) = _expect_list(argument, "Fn::Not", 1)
                return not self._condition_value(inner)
            if name in ("Fn::And", "Fn::Or"):
                if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
                    raise CfnError(f"{name} takes 2 to 10 conditions, got {argument!r}")
                results = [self._condition_value(inner) for inner in argument]
                return all(results) if name == "Fn::And" else any(results)
        raise CfnError(f"not a condition: {value!r}")

    # ------------------------------------------------------------------ references

    def _pseudo(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        if name == "AWS::StackId":
            digest = hashlib.sha256(f"{self.region}/{self.stack_name}".encode()).hexdigest()
            stack_uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
            return self._arn("cloudformation", f"stack/{self.stack_name}/{stack_uuid}")
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": self.url_suffix,
        }[name]

    def _parameter(self, name: str) -> Any:
        spec = self._parameters[name] or {}
        if name in self._parameter_values:
            raw: Any = self._parameter_values[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise CfnError(f"parameter {name!r} has no Default; pass it in parameter_values")
        kind = str(spec.get("Type", "String"))
        # CloudFormation hands every parameter over as a string (lists as lists of strings).
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            if isinstance(raw, list):
                return [str(item) for item in raw]
            return [] if raw == "" else [item.strip() for item in str(raw).split(",")]
        return str(raw)

    def _physical_id(self, logical_id: str) -> str:
        try:
            return self.physical_ids[logical_id]
        except KeyError:
            raise CfnError(f"no physical id for resource {logical_id!r}; pass it in physical_ids") from None

    def _resource_ref(self, logical_id: str) -> str:
        kind = self._resources[logical_id].get("Type", "")
        physical = self._physical_id(logical_id)
        if kind == "AWS::SQS::Queue":
            return self._queue_url(physical)
        if kind == "AWS::SNS::Topic":
            return self._topic_arn(physical)
        return physical

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    def _queue_url(self, physical: str) -> str:
        if physical.startswith(("http://", "https://")):
            return physical
        return f"https://sqs.{self.region}.{self.url_suffix}/{self.account_id}/{physical}"

    def _topic_arn(self, physical: str) -> str:
        return physical if physical.startswith("arn:") else self._arn("sns", physical)


def _queue_name(physical: str) -> str:
    """A queue's physical id is its URL in CloudFormation; accept a bare name as well."""
    return physical.rstrip("/").rsplit("/", 1)[-1]


def _get_att_parts(argument: Any) -> tuple[str, str]:
    """`!GetAtt A.B` arrives as the string "A.B"; the long form is a list [A, B]."""
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
        return logical_id, attribute
    if isinstance(argument, list) and len(argument) == 2 and all(isinstance(part, str) for part in argument):
        return argument[0], argument[1]
    raise CfnError(f"Fn::GetAtt needs 'Resource.Attribute' or [Resource, Attribute], got {argument!r}")


def _expect_list(argument: Any, what: str, length: int) -> list[Any]:
    if not isinstance(argument, list) or len(argument) != length:
        raise CfnError(f"{what} takes a list of {length} arguments, got {argument!r}")
    return argument


def _expect_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise CfnError(f"{what} needs a string, got {value!r}")
    return value


def _scalar_str(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise CfnError(f"{what} resolved to {value!r}, which is not a string")


def _comparable(value: Any) -> Any:
    """Fn::Equals compares strings: a YAML 30 and a parameter's "30" are equal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
