"""Deploy the template, translated offline by aws-sam-translator, into moto's CloudFormation.

Nothing leaves the process: the translator gets a fake managed-policy loader (it is never asked, as
no function uses a SAM policy template) and moto plays CloudFormation, S3, Lambda, IAM, DynamoDB,
SQS, SNS and Logs. The checks read what moto *created*: tables, functions, roles with their inline
policies resolved to real table ARNs, the Lambda permissions, and the HTTP API's routes.

Honest limits of moto 5.2 (checked, not assumed: `test_moto_lacks_exactly_these_types` fails the
day moto supports one of them, so the resource can move into the deployed checks):
- no CloudFormation support for API Gateway v2, CloudFront (distribution, OAC, cache / origin
  request / response headers policies), CloudWatch alarms, EventBridge Scheduler schedules,
  Lambda EventInvokeConfig, SNS subscriptions and S3 bucket policies. Those resources are removed
  before create_stack (references to them become placeholder strings) and are checked in the
  translated template instead;
- the HTTP API's routes are therefore created by importing the translated OpenAPI body into moto's
  API Gateway v2 (`import_api`), with the integration URIs pointing at the functions moto deployed.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode_str
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map
from samtranslator.translator.transform import transform

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"
REGION = "us-east-1"
STACK = "murmur-test"
ARTIFACTS = "murmur-artifacts"
BOT_USERNAME = "my_murmur_bot"
UNSUPPORTED_BY_MOTO = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::Scheduler::Schedule",
}
# The key contract murmur.store relies on: (table, key schema, {index: key schema}).
TABLE_KEYS = {
    "UsersTable": (
        [("user_id", "HASH")],
        {
            "plan-expiry": [("expiry_bucket", "HASH"), ("plan_expires_at", "RANGE")],
            "plan-remind": [("remind_bucket", "HASH"), ("remind_at", "RANGE")],
            "erasing": [("erase_pending", "HASH"), ("erase_started_at", "RANGE")],
        },
    ),
    "LinksTable": ([("code", "HASH")], {}),
    "MessagesTable": (
        [("recipient_id", "HASH"), ("message_id", "RANGE")],
        {
            "by-sender": [("sender_id", "HASH"), ("message_id", "RANGE")],
            "reports-to-review": [("review", "HASH"), ("reported_at", "RANGE")],
        },
    ),
    "OrdersTable": ([("order_id", "HASH")], {"by-buyer": [("buyer_id", "HASH"), ("created_at", "RANGE")]}),
    "PaymentsTable": ([("charge_id", "HASH")], {"by-user": [("user_id", "HASH"), ("created_at", "RANGE")]}),
    "StateTable": ([("pk", "HASH")], {"outbox-due": [("outbox_shard", "HASH"), ("due_at", "RANGE")]}),
}
FUNCTION_TABLES = {
    "WebhookFunction": set(TABLE_KEYS),
    "MiniAppApiFunction": set(TABLE_KEYS),
    "SubscriptionsCronFunction": {
        "UsersTable",
        "LinksTable",  # a paid gift's held message is stored against the link's blocks (ADR 0011)
        "OrdersTable",
        "PaymentsTable",
        "MessagesTable",
        "StateTable",
    },
}
TABLE_ENV = {
    "USERS_TABLE": "UsersTable",
    "LINKS_TABLE": "LinksTable",
    "MESSAGES_TABLE": "MessagesTable",
    "ORDERS_TABLE": "OrdersTable",
    "PAYMENTS_TABLE": "PaymentsTable",
    "STATE_TABLE": "StateTable",
}


class FakeManagedPolicyLoader:
    """Stands in for the IAM ListPolicies call the translator makes for policy names; records use."""

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> dict[str, str]:
        self.calls += 1
        return {}


def load_sam_template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    template: dict[str, Any] = json.loads(json.dumps(decoded))
    # What `sam package` does: code locations become S3 objects.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACTS}/function.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://{ARTIFACTS}/layer.zip"
    return template


def replace_references(value: Any, removed: set[str]) -> Any:
    """Turn Ref / GetAtt / Sub references to removed resources into placeholder strings."""
    if isinstance(value, list):
        return [replace_references(v, removed) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("Ref") in removed:
        return f"removed-{value['Ref']}"
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in removed:
        return "removed-" + "-".join(value["Fn::GetAtt"])
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        text = re.sub(
            r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}",
            lambda m: f"removed-{m.group(1)}" if m.group(1) in removed else m.group(0),
            text,
        )
        variables = replace_references(variables, removed)
        return {"Fn::Sub": text if not variables else [text, variables]}
    return {k: replace_references(v, removed) for k, v in value.items()}


def without_unsupported(cfn: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    supported = get_model_map()
    removed = {k: r["Type"] for k, r in cfn["Resources"].items() if r["Type"] not in supported}
    kept = {k: r for k, r in cfn["Resources"].items() if k not in removed}
    for resource in kept.values():
        depends = resource.get("DependsOn")
        if depends:
            depends = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [d for d in depends if d not in removed]
    pruned = {**cfn, "Resources": replace_references(kept, set(removed))}
    pruned["Outputs"] = {k: o for k, o in cfn.get("Outputs", {}).items() if not (_referenced(o, set(removed)))}
    return pruned, removed


def _referenced(value: Any, names: set[str]) -> bool:
    return any(f"removed-{n}" in json.dumps(replace_references(value, names)) for n in names)


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    loader = FakeManagedPolicyLoader()
    with mock_aws():  # the translator looks up the partition from the region; keep boto3 offline
        cfn = transform(load_sam_template(), {}, loader)
    assert loader.calls == 0
    return cfn


@pytest.fixture(scope="module")
def stack(translated: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The stack created in moto: logical id -> physical id, plus the removed resources."""
    env = {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket=ARTIFACTS)
            s3.put_object(Bucket=ARTIFACTS, Key="function.zip", Body=code_zip())
            s3.put_object(Bucket=ARTIFACTS, Key="layer.zip", Body=code_zip())
            pruned, removed = without_unsupported(json.loads(json.dumps(translated)))
            cloudformation = boto3.client("cloudformation", region_name=REGION)
            with warnings.catch_warnings():
                # moto warns about resource types it skips; none are left after pruning.
                warnings.simplefilter("error")
                cloudformation.create_stack(
                    StackName=STACK,
                    TemplateBody=json.dumps(pruned),
                    Capabilities=["CAPABILITY_IAM"],
                    Parameters=[
                        {"ParameterKey": "BotUsername", "ParameterValue": BOT_USERNAME},
                        {"ParameterKey": "AdminIds", "ParameterValue": "111,222"},
                        {"ParameterKey": "CreateDashboard", "ParameterValue": "true"},
                    ],
                )
            described = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
            assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
            summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
            yield {
                "physical": {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries},
                "removed": removed,
                "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
                "pruned": pruned,
            }
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_moto_lacks_exactly_these_types(stack: dict[str, Any]) -> None:
    assert set(stack["removed"].values()) == UNSUPPORTED_BY_MOTO


def test_tables_have_the_keys_and_indexes_the_store_uses(stack: dict[str, Any]) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical, (keys, indexes) in TABLE_KEYS.items():
        table = dynamodb.describe_table(TableName=stack["physical"][logical])["Table"]
        assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == keys
        found = {
            i["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]]
            for i in table.get("GlobalSecondaryIndexes", [])
        }
        assert found == indexes
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_functions_run_the_layer_on_python313_arm64_with_table_names(
    stack: dict[str, Any], translated: dict[str, Any]
) -> None:
    aws_lambda = boto3.client("lambda", region_name=REGION)
    physical = stack["physical"]
    [layer] = [k for k, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"]
    layer_props = translated["Resources"][layer]["Properties"]
    assert layer_props["CompatibleRuntimes"] == ["python3.13"]
    assert layer_props["CompatibleArchitectures"] == ["arm64"]
    [deployed_layer] = aws_lambda.list_layers()["Layers"]
    assert deployed_layer["LatestMatchingVersion"]["CompatibleRuntimes"] == ["python3.13"]
    for function in FUNCTION_TABLES:
        config = aws_lambda.get_function_configuration(FunctionName=physical[function])
        assert config["Runtime"] == "python3.13"
        assert config["Handler"] == "app.handler"
        assert config["Role"].endswith(physical[f"{function}Role"])
        variables = config["Environment"]["Variables"]
        for env, logical in TABLE_ENV.items():
            assert variables[env] == physical[logical]
        assert variables["TELEGRAM_BOT_TOKEN_PARAM"] == "/murmur/bot-token"
        assert variables["MURMUR_ADMIN_IDS"] == "111,222"
        assert variables["MURMUR_BOT_USERNAME"] == BOT_USERNAME
        assert variables["PTB_TIMEDELTA"] == "1"
        assert "TELEGRAM_BOT_TOKEN" not in variables and "MURMUR_PSEUDONYM_SECRET" not in variables
        assert variables["MURMUR_PSEUDONYM_SECRET_PARAM"] == "/murmur/pseudonym-secret"
        # moto's CloudFormation drops Architectures, TracingConfig and Layers when it creates a
        # function, so these three are read from the translated template.
        props = translated["Resources"][function]["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert "TracingConfig" not in props  # no X-Ray: no function creates a tracer
        assert props["Layers"] == [{"Ref": layer}]


def reserved_concurrency(physical: dict[str, str]) -> dict[str, int | None]:
    aws_lambda = boto3.client("lambda", region_name=REGION)
    return {
        f: aws_lambda.get_function_concurrency(FunctionName=physical[f]).get("ReservedConcurrentExecutions")
        for f in FUNCTION_TABLES
    }


def test_by_default_nothing_is_reserved_so_any_account_can_deploy(stack: dict[str, Any]) -> None:
    """Lambda keeps 100 of an account's concurrency unreserved: reserving 91 fails on any quota under 191, and
    new accounts often start at 10. The default deploy reserves nothing."""
    assert reserved_concurrency(stack["physical"]) == dict.fromkeys(FUNCTION_TABLES)


def test_reserve_concurrency_true_caps_webhook_api_and_cron(stack: dict[str, Any]) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    name = f"{STACK}-reserved"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(stack["pruned"]),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "BotUsername", "ParameterValue": BOT_USERNAME},
            {"ParameterKey": "ReserveConcurrency", "ParameterValue": "true"},
        ],
    )
    try:
        summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        physical = {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}
        assert reserved_concurrency(physical) == {
            "WebhookFunction": 40,  # Telegram's max_connections (make setup-bot sets 40)
            "MiniAppApiFunction": 50,
            "SubscriptionsCronFunction": 1,
        }
        assert sum(v or 0 for v in reserved_concurrency(physical).values()) + 100 == 191  # the quota it needs
    finally:
        cloudformation.delete_stack(StackName=name)


def test_bot_username_is_required(stack: dict[str, Any]) -> None:
    """Every personal link is t.me/<BotUsername>: a deploy without it must fail, not fall back to a stranger's bot."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with pytest.raises(cloudformation.exceptions.ClientError, match="BotUsername"):
        cloudformation.create_stack(
            StackName=f"{STACK}-nameless", TemplateBody=json.dumps(stack["pruned"]), Capabilities=["CAPABILITY_IAM"]
        )
    parameter = load_sam_template()["Parameters"]["BotUsername"]
    assert "Default" not in parameter
    assert not re.fullmatch(parameter["AllowedPattern"], "") and re.fullmatch(parameter["AllowedPattern"], BOT_USERNAME)


def role_statements(stack: dict[str, Any], function: str) -> list[dict[str, Any]]:
    iam = boto3.client("iam", region_name=REGION)
    role = stack["physical"][f"{function}Role"]
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            # moto renders a CloudFormation role's inline policy as a Python literal, not JSON.
            document = ast.literal_eval(document)
        statements.extend(document["Statement"])
    return statements


@pytest.mark.parametrize("function", sorted(FUNCTION_TABLES))
def test_roles_grant_only_the_tables_each_function_needs(stack: dict[str, Any], function: str) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    arn_to_table = {dynamodb.describe_table(TableName=stack["physical"][t])["Table"]["TableArn"]: t for t in TABLE_KEYS}
    touched = set()
    for statement in role_statements(stack, function):
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if not any(a.startswith("dynamodb:") for a in actions):
            continue
        assert not {a for a in actions if a in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:*")}
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            table_arn = resource.split("/index/")[0]
            assert table_arn in arn_to_table, f"{function} names {resource}, not one of the stack's tables"
            touched.add(arn_to_table[table_arn])
    assert touched == FUNCTION_TABLES[function]


def test_roles_attach_only_the_logging_managed_policy(translated: dict[str, Any]) -> None:
    """moto's CloudFormation does not attach a role's ManagedPolicyArns: read from the translation. No X-Ray
    write access: tracing is off."""
    for function in FUNCTION_TABLES:
        role = translated["Resources"][f"{function}Role"]["Properties"]
        assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]


def test_only_the_cron_may_send_to_the_failure_queue(stack: dict[str, Any]) -> None:
    queue_arn = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=stack["physical"]["CronFailureQueue"], AttributeNames=["QueueArn", "SqsManagedSseEnabled"]
    )["Attributes"]
    for function in FUNCTION_TABLES:
        senders = [s for s in role_statements(stack, function) if s["Action"] == "sqs:SendMessage"]
        expected = [queue_arn["QueueArn"]] if function == "SubscriptionsCronFunction" else []
        assert [s["Resource"] for s in senders] == expected


def test_ssm_reads_are_pinned_to_parameter_arns(stack: dict[str, Any]) -> None:
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    token = f"arn:aws:ssm:{REGION}:{account}:parameter/murmur/bot-token"
    secret = f"arn:aws:ssm:{REGION}:{account}:parameter/murmur/webhook-secret"
    pseudonym = f"arn:aws:ssm:{REGION}:{account}:parameter/murmur/pseudonym-secret"
    expected = {
        "WebhookFunction": [token, secret, pseudonym],
        "MiniAppApiFunction": [token, pseudonym],
        "SubscriptionsCronFunction": [token, pseudonym],
    }
    for function, arns in expected.items():
        reads = [s for s in role_statements(stack, function) if s["Action"] == "ssm:GetParameters"]
        granted = []
        for statement in reads:
            resources = statement["Resource"]
            granted += resources if isinstance(resources, list) else [resources]
        # Plus the stack's own (non-secret) site-url parameter, which every function reads.
        site_url = [arn for arn in granted if arn.endswith("/site-url")]
        assert len(site_url) == 1 and site_url[0].startswith(f"arn:aws:ssm:{REGION}:{account}:parameter/")
        assert [arn for arn in granted if not arn.endswith("/site-url")] == arns


def test_api_gateway_may_invoke_exactly_the_two_http_functions(stack: dict[str, Any]) -> None:
    aws_lambda = boto3.client("lambda", region_name=REGION)
    physical = stack["physical"]
    routes = {"WebhookFunction": "/*/POST/webhook", "MiniAppApiFunction": "/*/*/api/*"}
    for function, suffix in routes.items():
        policy = json.loads(aws_lambda.get_policy(FunctionName=physical[function])["Policy"])
        [statement] = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(suffix)
    with pytest.raises(aws_lambda.exceptions.ResourceNotFoundException):
        aws_lambda.get_policy(FunctionName=physical["SubscriptionsCronFunction"])


def test_http_api_routes_reach_the_deployed_functions(stack: dict[str, Any], translated: dict[str, Any]) -> None:
    """moto has no ApiGatewayV2 in CloudFormation: import the translated OpenAPI body into its API."""
    aws_lambda = boto3.client("lambda", region_name=REGION)
    function_arns = {
        f: aws_lambda.get_function_configuration(FunctionName=stack["physical"][f])["FunctionArn"]
        for f in FUNCTION_TABLES
    }
    body = json.dumps(translated["Resources"]["HttpApi"]["Properties"]["Body"])
    # Resolve the integration URIs' Fn::Sub by hand: pseudo parameters and the deployed function ARNs.
    substitutions = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::StackName": STACK}
    substitutions |= {f"{f}.Arn": arn for f, arn in function_arns.items()}
    for name, value in substitutions.items():
        body = body.replace("${" + name + "}", value)
    document = json.loads(body)
    for path in document["paths"].values():
        for method in path.values():
            method["x-amazon-apigateway-integration"]["uri"] = method["x-amazon-apigateway-integration"]["uri"][
                "Fn::Sub"
            ]
    document["info"]["title"] = STACK
    apigateway = boto3.client("apigatewayv2", region_name=REGION)
    # moto implements ReimportApi but not ImportApi: create an empty HTTP API, then load the body.
    api_id = apigateway.create_api(Name=STACK, ProtocolType="HTTP")["ApiId"]
    apigateway.reimport_api(ApiId=api_id, Body=json.dumps(document))
    integrations = {i["IntegrationId"]: i for i in apigateway.get_integrations(ApiId=api_id)["Items"]}
    routes = {}
    for route in apigateway.get_routes(ApiId=api_id)["Items"]:
        # moto keeps OpenAPI's any-method key verbatim where API Gateway says ANY.
        key = route["RouteKey"].replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY")
        integration = integrations[route["Target"].removeprefix("integrations/")]
        assert integration["IntegrationType"].upper() == "AWS_PROXY"  # moto keeps OpenAPI's lower case
        assert integration["PayloadFormatVersion"] == "2.0"
        routes[key] = integration["IntegrationUri"]
    assert set(routes) == {"POST /webhook", "ANY /api/{proxy+}"}
    assert function_arns["WebhookFunction"] in routes["POST /webhook"]
    assert function_arns["MiniAppApiFunction"] in routes["ANY /api/{proxy+}"]


def test_stage_is_throttled_and_logs_without_source_ip(translated: dict[str, Any]) -> None:
    """Not deployable in moto (ApiGatewayV2::Stage): checked in the translated template."""
    stage = translated["Resources"]["HttpApiApiGatewayDefaultStage"]["Properties"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    access_log = stage["AccessLogSettings"]
    assert access_log["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    assert "sourceIp" not in access_log["Format"] and "identity" not in access_log["Format"]


def test_cron_schedule_and_failure_path(stack: dict[str, Any], translated: dict[str, Any]) -> None:
    """Scheduler and EventInvokeConfig are not in moto's CloudFormation: checked in the translation."""
    resources = translated["Resources"]
    schedule = resources["SubscriptionsCronFunctionEveryMinute"]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": ["SubscriptionsCronFunction", "Arn"]}
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["CronFailureQueue", "Arn"]}}
    invoke_config = resources["SubscriptionsCronFunctionEventInvokeConfig"]["Properties"]
    assert invoke_config["MaximumRetryAttempts"] == 0
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["CronFailureQueue", "Arn"]}
    # The scheduler's own role (deployed by moto) may invoke the cron and nothing else.
    iam = boto3.client("iam", region_name=REGION)
    role = stack["physical"]["SubscriptionsCronFunctionEveryMinuteRole"]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    actions = sorted(
        json.dumps((ast.literal_eval(d) if isinstance(d, str) else d)["Statement"][0]["Action"]) for d in documents
    )
    assert actions == ['"lambda:InvokeFunction"', '"sqs:SendMessage"']
    queue = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=stack["physical"]["CronFailureQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert queue["SqsManagedSseEnabled"] == "true"


def test_site_is_private_and_served_with_the_api_on_one_origin(
    stack: dict[str, Any], translated: dict[str, Any]
) -> None:
    """The bucket is deployed by moto; CloudFront is not, so its behaviours are read from the translation."""
    s3 = boto3.client("s3", region_name=REGION)
    bucket = stack["physical"]["SiteBucket"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    resources = translated["Resources"]
    # moto's CloudFormation ignores these two bucket properties: read from the translation.
    bucket_props = resources["SiteBucket"]["Properties"]
    assert all(bucket_props["PublicAccessBlockConfiguration"].values())
    assert bucket_props["VersioningConfiguration"] == {"Status": "Enabled"}
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["site"]["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/api/*", "/webhook"}
    for behaviour in behaviours.values():
        assert behaviour["TargetOriginId"] == "api"
        assert len(behaviour["AllowedMethods"]) == 7
        assert behaviour["CachePolicyId"] == {"Ref": "ApiCachePolicy"}
        assert behaviour["OriginRequestPolicyId"] == {"Ref": "ApiOriginRequestPolicy"}
    cache = resources["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 0 and cache["MinTTL"] == 0
    assert cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] == ["Authorization"]
    forwarded = resources["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]
    assert "X-Telegram-Bot-Api-Secret-Token" in forwarded["Headers"]
    assert "Host" not in forwarded["Headers"] and "Authorization" not in forwarded["Headers"]
    oac = resources["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"
    [read] = [
        s for s in resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"


def test_dashboard_is_deployed_and_shows_the_app_metrics(stack: dict[str, Any]) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    [entry] = cloudwatch.list_dashboards()["DashboardEntries"]
    body = cloudwatch.get_dashboard(DashboardName=entry["DashboardName"])["DashboardBody"]
    widgets = json.loads(body)["widgets"]
    text = json.dumps(widgets)
    for metric in (
        "MessagesSent",
        "MessagesUnlocked",
        "StarsEarned",
        "PaymentRejected",
        "FulfilmentFailed",
        "CronFailed",
        "RefundsIssued",
        "Errors",
        "Throttles",
        "Duration",
        "5xx",
    ):
        assert metric in text
    assert stack["physical"]["WebhookFunction"] in text


def test_outputs_name_the_tables_and_bucket(stack: dict[str, Any]) -> None:
    outputs = stack["outputs"]
    for logical in TABLE_KEYS:
        assert outputs[f"{logical}Name"] == stack["physical"][logical]
    assert outputs["SiteBucketName"] == stack["physical"]["SiteBucket"]
