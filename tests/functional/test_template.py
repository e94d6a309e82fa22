"""The SAM template, read as data: lint-clean, the shape ARCHITECTURE.md promises, least privilege.

cfn-lint runs in-process (its Python API, with aws-sam-translator for the Serverless transform), so a
template that would fail `sam deploy` validation fails here first. The IAM checks read the policies
straight from the template: each function may name only the tables it needs, never Scan, never a
table-management action, and only its own SSM parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode_str

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

TABLES = {"UsersTable", "LinksTable", "MessagesTable", "OrdersTable", "PaymentsTable", "StateTable"}
# Which function may touch which table (the contract documented in the template's policies).
TABLE_ACCESS = {
    "WebhookFunction": TABLES,
    "MiniAppApiFunction": TABLES,
    "SubscriptionsCronFunction": {
        "UsersTable",
        "OrdersTable",
        "PaymentsTable",
        "MessagesTable",
        "StateTable",
        "LinksTable",  # reads only: reconciliation admits a gift's held message as a send does (ADR 0011)
    },
}
SECRETS_READ = {
    # The pseudonym secret keys (under a label of its own) the person records of bans and referrals too.
    "WebhookFunction": {"BotTokenParameterName", "WebhookSecretParameterName", "PseudonymSecretParameterName"},
    "MiniAppApiFunction": {"BotTokenParameterName", "PseudonymSecretParameterName"},
    # Reconciliation stores a gift's held message as a send does: the sender's pseudonym and ban record.
    "SubscriptionsCronFunction": {"BotTokenParameterName", "PseudonymSecretParameterName"},
}
SECRET_VALUES = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "MURMUR_PSEUDONYM_SECRET"}
ITEM_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",  # an IAM action of its own: GetItem does not grant it
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    # Plain dicts and strings (cfn-lint's nodes remember their line numbers).
    return json.loads(json.dumps(decoded))


def function_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    policies = template["Resources"][function]["Properties"]["Policies"]
    assert all(set(p) == {"Statement"} for p in policies), f"{function}: only inline statements, no SAM templates"
    return [s for p in policies for s in p["Statement"]]


def names_in(value: Any) -> set[str]:
    """Every logical id or parameter named by Ref / GetAtt / Sub inside a value."""
    if isinstance(value, list):
        return set().union(*(names_in(v) for v in value)) if value else set()
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found = set()
            for piece in text.split("${")[1:]:
                found.add(piece.split("}")[0].split(".")[0])
            return {n for n in found if not n.startswith("AWS::")}
        return set().union(*(names_in(v) for v in value.values())) if value else set()
    return set()


def test_cfn_lint_reports_no_error_and_no_warning() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_functions_run_python313_on_arm64_without_tracing(template: dict[str, Any]) -> None:
    """No X-Ray: no function creates a tracer, so active tracing would only bill bare segments."""
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert "Tracing" not in function_globals
    functions = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(TABLE_ACCESS)
    for name in functions:
        props = template["Resources"][name]["Properties"]
        assert "Runtime" not in props and "Architectures" not in props, f"{name} overrides the Globals"
        assert "Tracing" not in props, f"{name} traces"
        assert props["Handler"] == "app.handler"
        assert template["Resources"][name]["Metadata"]["BuildMethod"] == "makefile"
    layer = template["Resources"]["MurmurLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert (TEMPLATE.parent / layer["Properties"]["ContentUri"] / "Makefile").is_file()


def test_routes_are_exactly_the_webhook_and_the_api(template: dict[str, Any]) -> None:
    routes = {}
    for name, resource in template["Resources"].items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                assert props["ApiId"] == {"Ref": "HttpApi"}
                routes[f"{props['Method']} {props['Path']}"] = name
    assert routes == {"POST /webhook": "WebhookFunction", "ANY /api/{proxy+}": "MiniAppApiFunction"}
    throttling = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert throttling["ThrottlingRateLimit"] > 0 and throttling["ThrottlingBurstLimit"] > 0


@pytest.mark.parametrize("function", sorted(TABLE_ACCESS))
def test_each_function_names_only_the_tables_it_needs(template: dict[str, Any], function: str) -> None:
    statements = function_statements(template, function)
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    named = set().union(*(names_in(s["Resource"]) for s in dynamo))
    assert named == TABLE_ACCESS[function]
    for statement in dynamo:
        assert set(_actions(statement)) <= ITEM_ACTIONS, f"{function}: {statement['Sid']} grants more than items"
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            assert resource != "*" and "*" not in json.dumps(resource), f"{function}: wildcard in {statement['Sid']}"


def test_the_cron_queries_due_indexes_and_deletes_only_to_finish_erasures(template: dict[str, Any]) -> None:
    statements = function_statements(template, "SubscriptionsCronFunction")
    actions = {a for s in statements for a in _actions(s)}
    assert not {a for a in actions if "Scan" in a}
    deletes = {
        (action, table)
        for s in statements
        for action in _actions(s)
        if "Delete" in action or "BatchWrite" in action
        for table in names_in(s["Resource"])
    }
    # What an erasure that DELETE /api/me or /deleteme began needs to finish (murmur.privacy); never the State
    # table: the outbox's settled notices are TTL's to delete (ADR 0005).
    assert deletes == {
        ("dynamodb:DeleteItem", "UsersTable"),
        ("dynamodb:BatchWriteItem", "MessagesTable"),
        ("dynamodb:BatchWriteItem", "OrdersTable"),
    }
    query_resources = [s["Resource"] for s in statements if "dynamodb:Query" in _actions(s)]
    assert query_resources == [
        [
            {"Fn::Sub": "${UsersTable.Arn}/index/plan-expiry"},
            {"Fn::Sub": "${UsersTable.Arn}/index/plan-remind"},
        ],
        [
            {"Fn::GetAtt": ["MessagesTable", "Arn"]},  # the newest message's preview for an announcement (ADR 0007)
            {"Fn::Sub": "${MessagesTable.Arn}/index/reports-to-review"},  # the admins' report digest (ADR 0009)
        ],
        {"Fn::Sub": "${StateTable.Arn}/index/outbox-due"},
        [  # unfinished erasures, and what each still holds
            {"Fn::Sub": "${UsersTable.Arn}/index/erasing"},
            {"Fn::Sub": "${MessagesTable.Arn}/index/by-sender"},
            {"Fn::Sub": "${OrdersTable.Arn}/index/by-buyer"},
            {"Fn::Sub": "${PaymentsTable.Arn}/index/by-user"},
        ],
    ]
    payments = [s for s in statements if names_in(s["Resource"]) == {"PaymentsTable"}]
    assert {a for s in payments for a in _actions(s)} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",  # a page of Stars transactions against the ledger, in one read
        "dynamodb:PutItem",  # a payment whose update was lost
        "dynamodb:UpdateItem",  # a refund made outside the bot
        "dynamodb:ConditionCheckItem",
    }


def test_only_the_bot_writes_new_payments(template: dict[str, Any]) -> None:
    api_payments = [
        s for s in function_statements(template, "MiniAppApiFunction") if names_in(s["Resource"]) == {"PaymentsTable"}
    ]
    assert "dynamodb:PutItem" not in {a for s in api_payments for a in _actions(s)}


@pytest.mark.parametrize("function", sorted(SECRETS_READ))
def test_each_function_reads_only_its_own_secrets(template: dict[str, Any], function: str) -> None:
    statements = function_statements(template, function)
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _actions(s))]
    assert {a for s in ssm for a in _actions(s)} == {"ssm:GetParameters"}
    assert set().union(*(names_in(s["Resource"]) for s in ssm)) == SECRETS_READ[function]
    kms = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert {a for s in kms for a in _actions(s)} == {"kms:Decrypt"}
    for statement in kms:
        condition = statement["Condition"]["StringEquals"]
        assert condition["kms:ViaService"] == {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}
        assert names_in(condition["kms:EncryptionContext:PARAMETER_ARN"]) == SECRETS_READ[function]


def test_secrets_are_never_plain_environment_values(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert not SECRET_VALUES & set(variables)
    assert variables["TELEGRAM_BOT_TOKEN_PARAM"] == {"Ref": "BotTokenParameterName"}
    for resource in template["Resources"].values():
        own = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        assert not SECRET_VALUES & set(own)


def test_every_function_knows_the_one_pseudonym_secret(template: dict[str, Any]) -> None:
    """Pseudonyms are computed where a message is sent (the API) or stored by its gift's payment (the webhook, the
    cron's reconciliation); person records (bans, referrals: under a key derived with a label of its own) are read
    there too. One parameter for all, in Globals: no function may fall back to a key of its own."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["MURMUR_PSEUDONYM_SECRET_PARAM"] == {"Ref": "PseudonymSecretParameterName"}
    for resource in template["Resources"].values():
        assert "MURMUR_PSEUDONYM_SECRET_PARAM" not in resource.get("Properties", {}).get("Environment", {}).get(
            "Variables", {}
        )
    assert template["Parameters"]["PseudonymSecretParameterName"]["Default"] == "/murmur/pseudonym-secret"


def test_ptb_returns_time_periods_as_timedelta(template: dict[str, Any]) -> None:
    assert template["Globals"]["Function"]["Environment"]["Variables"]["PTB_TIMEDELTA"] == "1"


def test_cron_failures_reach_an_encrypted_queue_and_the_alarms(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    cron = resources["SubscriptionsCronFunction"]["Properties"]
    on_failure = cron["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["CronFailureQueue", "Arn"]}}
    schedule = cron["Events"]["EveryMinute"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["CronFailureQueue", "Arn"]}}
    assert resources["CronFailureQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    alarmed = {
        (
            r["Properties"]["Namespace"],
            r["Properties"]["MetricName"],
            json.dumps(r["Properties"]["Dimensions"]),
        )
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    for function in TABLE_ACCESS:
        dims = json.dumps([{"Name": "FunctionName", "Value": {"Ref": function}}])
        assert ("AWS/Lambda", "Errors", dims) in alarmed
        # Throttles are not alarmed apart: a throttled webhook or API call is an API 5xx (alarmed below), a
        # throttled cron run is retried and then lands in the failure queue (alarmed below). $0.10 each.
        assert ("AWS/Lambda", "Throttles", dims) not in alarmed
    murmur = json.dumps([{"Name": "service", "Value": "murmur"}])
    assert {("Murmur", "FulfilmentFailed", murmur), ("Murmur", "CronFailed", murmur)} <= alarmed
    assert ("AWS/ApiGateway", "5xx", json.dumps([{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}])) in alarmed
    queue_dims = json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["CronFailureQueue", "QueueName"]}}])
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue_dims) in alarmed
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert resource["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_function_has_a_log_group_with_retention(template: dict[str, Any]) -> None:
    groups = {
        json.dumps(r["Properties"].get("LogGroupName")): r["Properties"]["RetentionInDays"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    for function in TABLE_ACCESS:
        assert groups[json.dumps({"Fn::Sub": f"/aws/lambda/${{{function}}}"})] == {"Ref": "LogRetentionDays"}


def test_checkov_skips_all_carry_a_reason(template: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "the template documents its checkov exceptions inline"
    for name, skip in skips:
        assert skip["id"].startswith("CKV") and len(skip.get("comment", "")) > 20, f"{name}: {skip}"


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_dashboard_is_opt_in(template: dict[str, Any]) -> None:
    """US$3 a month on its own, three times everything else an idle stack costs (docs/decisions/0004)."""
    assert template["Parameters"]["CreateDashboard"]["Default"] == "false"
    assert template["Conditions"]["HasDashboard"] == {"Fn::Equals": [{"Ref": "CreateDashboard"}, "true"]}
    assert template["Resources"]["Dashboard"]["Condition"] == "HasDashboard"
    assert template["Outputs"]["DashboardName"]["Condition"] == "HasDashboard"
