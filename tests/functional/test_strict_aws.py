"""The strict local AWS endpoint: IAM per function, DynamoDB's isolation, conflicts, limits and faults.

moto stores the data; `StrictAws` in front of it must refuse what AWS refuses. Every test below passes a
request that bare moto would accept (or shows moto's answer where moto already is strict) and checks the
answer AWS gives, as botocore parses it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.cfn import CfnError, CfnResolver
from sandbox.iam import Statement, dynamodb_authorizations, evaluate, ssm_authorizations
from sandbox.moto_server import MotoServer
from sandbox.strict_aws import StrictAws, dynamodb_item_size
from sandbox.tables import TABLE_ENV, TEMPLATE, create_tables, load_template, table_definitions

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "strict-test"

ClientFactory = Callable[..., Any]


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with MotoServer() as moto:
        yield moto.url


@pytest.fixture(scope="module")
def prefix(moto_url: str) -> str:
    """Tables (and SSM parameter names) of this module, created straight on moto like `make dev` does."""
    prefix = f"strict{uuid.uuid4().hex[:6]}-"
    with _plain("dynamodb", moto_url) as dynamodb:
        create_tables(dynamodb, prefix)
    with _plain("ssm", moto_url) as ssm:
        for name in ("bot-token", "webhook-secret"):
            ssm.put_parameter(Name=f"/{prefix}/{name}", Value=f"value-of-{name}", Type="SecureString")
    return prefix


@pytest.fixture(scope="module")
def physical_ids(prefix: str) -> dict[str, str]:
    return {logical: f"{prefix}{logical}" for logical in TABLE_ENV}


@pytest.fixture(scope="module")
def parameters(prefix: str) -> dict[str, str]:
    return {
        "BotTokenParameterName": f"/{prefix}/bot-token",
        "WebhookSecretParameterName": f"/{prefix}/webhook-secret",
    }


@pytest.fixture(scope="module")
def custom_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's template with each function's policy replaced by a small, known one."""
    return _template_with(tmp_path_factory.mktemp("template"), CUSTOM_POLICIES)


@pytest.fixture(scope="module")
def strict(
    moto_url: str, custom_template: Path, physical_ids: dict[str, str], parameters: dict[str, str]
) -> Iterator[StrictAws]:
    with StrictAws(
        custom_template,
        upstream=moto_url,
        stack_name=STACK,
        physical_ids=physical_ids,
        parameter_values=parameters,
        transaction_seconds=0.25,
    ) as aws:
        yield aws


@pytest.fixture
def client() -> Iterator[ClientFactory]:
    """`client(strict, "WebhookFunction", "dynamodb", max_attempts=1)`: a botocore client as that function."""
    made: list[Any] = []

    def make(aws: StrictAws, logical_id: str, service: str = "dynamodb", *, max_attempts: int = 1) -> Any:
        access_key, secret = aws.credentials(logical_id)
        made.append(_client(service, aws.url, access_key, secret, max_attempts))
        return made[-1]

    yield make
    for one in made:
        one.close()


def _client(service: str, url: str, access_key: str, secret: str, max_attempts: int = 1) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
    )


class _plain:
    """A client straight to moto (no strictness), closed on exit."""

    def __init__(self, service: str, url: str) -> None:
        self.client = _client(service, url, "testing", "testing")

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def _arn(logical_id: str) -> dict[str, str]:
    return {"Fn::GetAtt": f"{logical_id}.Arn"}


def _allow(actions: str | list[str], resources: Any, effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resources}


CUSTOM_POLICIES: dict[str, list[dict[str, Any]]] = {
    "WebhookFunction": [
        _allow("dynamodb:GetItem", _arn("UsersTable")),
        _allow("dynamodb:Query", _arn("PaymentsTable")),
        _allow("dynamodb:PutItem", _arn("LinksTable")),
        _allow(
            ["dynamodb:Get*", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"], _arn("StateTable")
        ),
        _allow(
            "ssm:GetParameters",
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${BotTokenParameterName}"},
        ),
    ],
    "MiniAppApiFunction": [
        _allow("dynamodb:Query", {"Fn::Sub": "${PaymentsTable.Arn}/index/by-user"}),
        _allow(["dynamodb:GetItem", "dynamodb:BatchGetItem"], [_arn("UsersTable"), _arn("LinksTable")]),
        _allow("dynamodb:GetItem", _arn("StateTable")),
    ],
    "SubscriptionsCronFunction": [
        _allow("dynamodb:*", "*"),
        _allow("dynamodb:DeleteItem", _arn("UsersTable"), effect="Deny"),
    ],
}


def _template_with(directory: Path, policies: dict[str, list[dict[str, Any]]]) -> Path:
    template = load_template(TEMPLATE)
    for logical_id, statements in policies.items():
        template["Resources"][logical_id]["Properties"]["Policies"] = [{"Statement": statements}]
    path = directory / "template.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    return path


def _key(logical_id: str, value: str = "1") -> dict[str, dict[str, str]]:
    """A key of the template's table `logical_id`, typed from its AttributeDefinitions."""
    props = table_definitions()[logical_id]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    return {k["AttributeName"]: {types[k["AttributeName"]]: value} for k in props["KeySchema"]}


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _denied_message(logical_id: str, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{STACK}-{logical_id}Role/{STACK}-{logical_id} is not authorized"
        f" to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
    )


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


# ---------------------------------------------------------------------------------------------- IAM


def test_webhook_function_reads_its_tables_but_may_not_scan_them(
    moto_url: str, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    with StrictAws(TEMPLATE, upstream=moto_url, stack_name=STACK, physical_ids=physical_ids) as aws:
        webhook = client(aws, "WebhookFunction")
        for logical_id, name in physical_ids.items():
            assert "Item" not in webhook.get_item(TableName=name, Key=_key(logical_id))
        assert aws.denials == []
        with pytest.raises(ClientError) as excinfo:
            webhook.scan(TableName=physical_ids["UsersTable"])
        resource = _table_arn(physical_ids["UsersTable"])
        assert _error(excinfo) == (
            400,
            "AccessDeniedException",
            _denied_message("WebhookFunction", "dynamodb:Scan", resource),
        )
        headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["content-type"] == "application/x-amz-json-1.0"
        assert aws.denials == [("WebhookFunction", "dynamodb:Scan", resource)]


def test_a_policy_naming_a_table_arn_allows_that_table_only(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    webhook = client(strict, "WebhookFunction")
    webhook.get_item(TableName=physical_ids["UsersTable"], Key=_key("UsersTable"))
    # A table given by its ARN is the same table.
    webhook.get_item(TableName=_table_arn(physical_ids["UsersTable"]), Key=_key("UsersTable"))
    with pytest.raises(ClientError) as excinfo:
        webhook.get_item(TableName=physical_ids["LinksTable"], Key=_key("LinksTable"))
    resource = _table_arn(physical_ids["LinksTable"])
    assert _error(excinfo) == (
        400,
        "AccessDeniedException",
        _denied_message("WebhookFunction", "dynamodb:GetItem", resource),
    )
    assert strict.denials[-1] == ("WebhookFunction", "dynamodb:GetItem", resource)


def test_an_explicit_deny_wins_over_a_wildcard_allow(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    cron = client(strict, "SubscriptionsCronFunction")
    cron.delete_item(TableName=physical_ids["StateTable"], Key=_key("StateTable", "gone"))
    with pytest.raises(ClientError) as excinfo:
        cron.delete_item(TableName=physical_ids["UsersTable"], Key=_key("UsersTable"))
    status, code, message = _error(excinfo)
    assert (status, code) == (400, "AccessDeniedException")
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_query_on_an_index_needs_the_index_arn(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    payments = physical_ids["PaymentsTable"]
    on_table = {"KeyConditionExpression": "charge_id = :c", "ExpressionAttributeValues": {":c": {"S": "x"}}}
    on_index = {
        "IndexName": "by-user",
        "KeyConditionExpression": "user_id = :u",
        "ExpressionAttributeValues": {":u": {"N": "1"}},
    }
    webhook, api = client(strict, "WebhookFunction"), client(strict, "MiniAppApiFunction")

    assert webhook.query(TableName=payments, **on_table)["Items"] == []
    with pytest.raises(ClientError) as excinfo:
        webhook.query(TableName=payments, **on_index)
    assert _error(excinfo)[1] == "AccessDeniedException"
    assert strict.denials[-1] == ("WebhookFunction", "dynamodb:Query", f"{_table_arn(payments)}/index/by-user")

    assert api.query(TableName=payments, **on_index)["Items"] == []
    with pytest.raises(ClientError) as excinfo:
        api.query(TableName=payments, **on_table)
    assert _error(excinfo)[1] == "AccessDeniedException"


def test_batch_get_item_needs_its_own_action_on_every_table(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    users, links, state = (physical_ids[t] for t in ("UsersTable", "LinksTable", "StateTable"))
    # The webhook may GetItem on Users, which is not enough for BatchGetItem.
    with pytest.raises(ClientError) as excinfo:
        client(strict, "WebhookFunction").batch_get_item(RequestItems={users: {"Keys": [_key("UsersTable")]}})
    assert _error(excinfo)[2] == _denied_message("WebhookFunction", "dynamodb:BatchGetItem", _table_arn(users))

    api = client(strict, "MiniAppApiFunction")
    both = {users: {"Keys": [_key("UsersTable")]}, links: {"Keys": [_key("LinksTable", "c")]}}
    assert api.batch_get_item(RequestItems=both)["Responses"] == {users: [], links: []}
    # GetItem on State is granted, BatchGetItem on State is not: the whole call is refused.
    with pytest.raises(ClientError) as excinfo:
        api.batch_get_item(RequestItems={**both, state: {"Keys": [_key("StateTable")]}})
    assert strict.denials[-1] == ("MiniAppApiFunction", "dynamodb:BatchGetItem", _table_arn(state))


def test_transact_write_items_is_authorized_item_by_item(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    links, state = physical_ids["LinksTable"], physical_ids["StateTable"]
    webhook = client(strict, "WebhookFunction")
    put_link = {"Put": {"TableName": links, "Item": {"code": {"S": "tx-link"}, "owner": {"N": "1"}}}}
    webhook.transact_write_items(TransactItems=[put_link])
    update_link = {
        "Update": {
            "TableName": links,
            "Key": {"code": {"S": "tx-link"}},
            "UpdateExpression": "SET #o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"N": "2"}},
        }
    }
    put_state = {"Put": {"TableName": state, "Item": {"pk": {"S": "tx-state"}}}}
    with pytest.raises(ClientError) as excinfo:
        webhook.transact_write_items(TransactItems=[put_state, update_link])
    assert _error(excinfo)[2] == _denied_message("WebhookFunction", "dynamodb:UpdateItem", _table_arn(links))
    # Nothing of the refused transaction was written.
    with _plain("dynamodb", strict.dynamodb_upstream) as moto:
        assert "Item" not in moto.get_item(TableName=state, Key={"pk": {"S": "tx-state"}})
        assert moto.get_item(TableName=links, Key={"code": {"S": "tx-link"}})["Item"]["owner"] == {"N": "1"}


def test_get_parameters_is_denied_as_a_whole_when_one_name_is_not_granted(
    strict: StrictAws, parameters: dict[str, str], client: ClientFactory
) -> None:
    ssm = client(strict, "WebhookFunction", "ssm")
    token, secret = parameters["BotTokenParameterName"], parameters["WebhookSecretParameterName"]
    answer = ssm.get_parameters(Names=[token], WithDecryption=True)
    assert [p["Value"] for p in answer["Parameters"]] == ["value-of-bot-token"]
    with pytest.raises(ClientError) as excinfo:
        ssm.get_parameters(Names=[token, secret], WithDecryption=True)
    resource = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{secret}"
    assert _error(excinfo) == (
        400,
        "AccessDeniedException",
        _denied_message("WebhookFunction", "ssm:GetParameters", resource),
    )
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"


def test_an_unknown_access_key_is_refused(strict: StrictAws, physical_ids: dict[str, str]) -> None:
    stranger = _client("dynamodb", strict.url, "ASIAUNKNOWNKEY000000", "secret")
    try:
        with pytest.raises(ClientError) as excinfo:
            stranger.get_item(TableName=physical_ids["UsersTable"], Key=_key("UsersTable"))
    finally:
        stranger.close()
    assert _error(excinfo) == (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


# ---------------------------------------------------------------------------------------------- conflicts


def _add_one(table: str, pk: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def test_concurrent_transactions_on_one_item_conflict(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    state = physical_ids["StateTable"]
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    clients = [client(strict, "WebhookFunction"), client(strict, "WebhookFunction")]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def run(index: int) -> None:
        own = {"Put": {"TableName": state, "Item": {"pk": {"S": f"{hot}-own-{index}"}}}}
        barrier.wait()
        try:
            outcomes[index] = clients[index].transact_write_items(TransactItems=[own, _add_one(state, hot)])
        except ClientError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = [o for o in outcomes if isinstance(o, ClientError)]
    assert len(failures) == 1, outcomes
    response = failures[0].response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
    ]
    item = clients[0].get_item(TableName=state, Key={"pk": {"S": hot}}, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "1"}


def test_single_writes_conflict_with_a_transaction_in_flight_and_reads_see_the_committed_item(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    state = physical_ids["StateTable"]
    hot = f"hot-{uuid.uuid4().hex[:6]}"
    writer, other = client(strict, "WebhookFunction"), client(strict, "WebhookFunction")
    other.put_item(TableName=state, Item={"pk": {"S": hot}, "n": {"N": "5"}})
    transaction = threading.Thread(target=writer.transact_write_items, kwargs={"TransactItems": [_add_one(state, hot)]})
    transaction.start()
    try:
        deadline = time.monotonic() + 5
        while not strict.in_flight() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert strict.in_flight(), "the transaction never went in flight"

        with pytest.raises(ClientError) as excinfo:
            other.update_item(
                TableName=state,
                Key={"pk": {"S": hot}},
                UpdateExpression="SET x = :x",
                ExpressionAttributeValues={":x": {"S": "y"}},
            )
        assert _error(excinfo) == (400, "TransactionConflictException", "Transaction is ongoing for the item")
        # A transactional read of the held item is cancelled.
        with pytest.raises(ClientError) as excinfo:
            other.transact_get_items(TransactItems=[{"Get": {"TableName": state, "Key": {"pk": {"S": hot}}}}])
        assert excinfo.value.response["CancellationReasons"] == [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        ]
        # A read during the transaction sees the last committed state.
        assert other.get_item(TableName=state, Key={"pk": {"S": hot}})["Item"]["n"] == {"N": "5"}
        # A batch write to the held item comes back unprocessed; the rest of the batch is written.
        answer = other.batch_write_item(
            RequestItems={
                state: [
                    {"PutRequest": {"Item": {"pk": {"S": hot}}}},
                    {"PutRequest": {"Item": {"pk": {"S": f"{hot}-free"}}}},
                ]
            }
        )
        assert answer["UnprocessedItems"] == {state: [{"PutRequest": {"Item": {"pk": {"S": hot}}}}]}
    finally:
        transaction.join()
    assert other.get_item(TableName=state, Key={"pk": {"S": hot}})["Item"]["n"] == {"N": "6"}
    assert "Item" in other.get_item(TableName=state, Key={"pk": {"S": f"{hot}-free"}})


# ---------------------------------------------------------------------------------------------- faults


def test_an_injected_throttle_outlasts_the_clients_retries(
    strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory
) -> None:
    users, state = physical_ids["UsersTable"], physical_ids["StateTable"]
    strict.inject("GetItem", "ThrottlingException", times=10, table=users)
    try:
        retrying = client(strict, "WebhookFunction", max_attempts=2)
        # Only GetItem on Users is throttled.
        retrying.get_item(TableName=state, Key=_key("StateTable"))
        with pytest.raises(ClientError) as excinfo:
            retrying.get_item(TableName=users, Key=_key("UsersTable"))
        assert _error(excinfo) == (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 1

        strict.clear_injected()
        once = client(strict, "WebhookFunction")
        strict.inject("*", "ProvisionedThroughputExceededException")
        with pytest.raises(ClientError) as excinfo:
            once.get_item(TableName=users, Key=_key("UsersTable"))
        assert _error(excinfo)[:2] == (400, "ProvisionedThroughputExceededException")
        strict.inject("GetItem", "InternalServerError")
        with pytest.raises(ClientError) as excinfo:
            once.get_item(TableName=users, Key=_key("UsersTable"))
        assert _error(excinfo)[:2] == (500, "InternalServerError")
        once.get_item(TableName=users, Key=_key("UsersTable"))  # both faults are used up
    finally:
        strict.clear_injected()


# ---------------------------------------------------------------------------------------------- limits


def test_transaction_and_batch_limits(strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory) -> None:
    state = physical_ids["StateTable"]
    webhook = client(strict, "WebhookFunction")

    def put(pk: str, **extra: Any) -> dict[str, Any]:
        return {"Put": {"TableName": state, "Item": {"pk": {"S": pk}, **extra}}}

    # moto enforces this one itself.
    with pytest.raises(ClientError) as excinfo:
        webhook.transact_write_items(TransactItems=[put(f"many-{i}") for i in range(101)])
    assert _error(excinfo)[:2] == (400, "ValidationException")
    # 11 items of 390 KB: each item is fine, the transaction is over 4 MB.
    big = {"v": {"S": "x" * (390 * 1024)}}
    with pytest.raises(ClientError) as excinfo:
        webhook.transact_write_items(TransactItems=[put(f"big-{i}", **big) for i in range(11)])
    assert _error(excinfo) == (400, "ValidationException", "Transaction request cannot be larger than 4 MB")
    # BatchWriteItem: at most 25 writes, no key twice.
    with pytest.raises(ClientError) as excinfo:
        webhook.batch_write_item(
            RequestItems={state: [{"PutRequest": {"Item": put(f"b-{i}")["Put"]["Item"]}} for i in range(26)]}
        )
    assert _error(excinfo)[:2] == (400, "ValidationException")
    twice = [{"PutRequest": {"Item": {"pk": {"S": "dup"}, "v": {"N": str(i)}}}} for i in range(2)]
    with pytest.raises(ClientError) as excinfo:
        webhook.batch_write_item(RequestItems={state: twice})
    assert _error(excinfo) == (400, "ValidationException", "Provided list of item keys contains duplicates")
    with _plain("dynamodb", strict.dynamodb_upstream) as moto:
        assert "Item" not in moto.get_item(TableName=state, Key={"pk": {"S": "dup"}})
        assert "Item" not in moto.get_item(TableName=state, Key={"pk": {"S": "b-0"}})


def test_items_over_400_kb_are_refused(strict: StrictAws, physical_ids: dict[str, str], client: ClientFactory) -> None:
    state = physical_ids["StateTable"]
    webhook = client(strict, "WebhookFunction")
    with pytest.raises(ClientError) as excinfo:
        webhook.put_item(TableName=state, Item={"pk": {"S": "huge"}, "v": {"S": "x" * (401 * 1024)}})
    assert _error(excinfo) == (400, "ValidationException", "Item size has exceeded the maximum allowed size")
    # DynamoDB counts 3 bytes per list plus 1 per element (moto does not): 340 KB + 25,000 numbers of 3 bytes.
    padded = {
        "pk": {"S": "padded"},
        "v": {"S": "x" * (340 * 1024)},
        "l": {"L": [{"N": "1"} for _ in range(25_000)]},
    }
    assert dynamodb_item_size(padded) > 400 * 1024
    for write in (
        lambda: webhook.put_item(TableName=state, Item=padded),
        lambda: webhook.batch_write_item(RequestItems={state: [{"PutRequest": {"Item": padded}}]}),
        lambda: webhook.transact_write_items(TransactItems=[{"Put": {"TableName": state, "Item": padded}}]),
    ):
        with pytest.raises(ClientError) as excinfo:
            write()
        assert _error(excinfo) == (400, "ValidationException", "Item size has exceeded the maximum allowed size")
    with _plain("dynamodb", strict.dynamodb_upstream) as moto:
        assert "Item" not in moto.get_item(TableName=state, Key={"pk": {"S": "padded"}})


# ---------------------------------------------------------------------------------------------- the pieces


def test_item_size_follows_the_developer_guide() -> None:
    assert dynamodb_item_size({"ab": {"S": "héllo"}}) == 2 + 6
    assert dynamodb_item_size({"n": {"N": "-0123.4500"}}) == 1 + 4  # 5 significant digits: 3 + 1
    assert dynamodb_item_size({"b": {"B": "AAAA"}}) == 1 + 3  # raw bytes, not base64
    assert dynamodb_item_size({"t": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert dynamodb_item_size({"l": {"L": []}, "m": {"M": {"k": {"S": "v"}}}}) == (1 + 3) + (1 + 3 + 1 + 1 + 1)


def test_the_resolver_follows_cloudformation() -> None:
    template = load_template(TEMPLATE)
    resolver = CfnResolver(
        template, stack_name="s", physical_ids={"UsersTable": "u"}, parameter_values={"ReserveConcurrency": "false"}
    )
    assert resolver.resolve({"Fn::GetAtt": "UsersTable.Arn"}) == "arn:aws:dynamodb:us-east-1:123456789012:table/u"
    assert resolver.resolve({"Fn::GetAtt": ["UsersTable", "Arn"]}) == "arn:aws:dynamodb:us-east-1:123456789012:table/u"
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}-${!Literal}-${UsersTable}"}) == "s-${Literal}-u"
    assert resolver.resolve({"Fn::Sub": ["${A}/${UsersTable.Arn}", {"A": {"Ref": "AWS::Region"}}]}) == (
        "us-east-1/arn:aws:dynamodb:us-east-1:123456789012:table/u"
    )
    assert resolver.resolve({"Ref": "BotTokenParameterName"}) == "/murmur/bot-token"
    assert resolver.resolve({"Ref": "LogRetentionDays"}) == "30"
    assert not resolver.condition("ReservesConcurrency")
    assert resolver.resolve({"a": {"Fn::If": ["ReservesConcurrency", 1, {"Ref": "AWS::NoValue"}]}, "b": [1]}) == {
        "b": [1]
    }
    assert resolver.resolve({"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::Partition"}]]}) == "a-aws"
    for unknown in (
        {"Ref": "Nope"},
        {"Fn::GetAtt": "LinksTable.Arn"},
        {"Fn::ImportValue": "x"},
        {"Fn::GetAtt": "UsersTable.StreamArn"},
    ):
        with pytest.raises(CfnError):
            resolver.resolve(unknown)


def test_iam_matching_rules() -> None:
    table = "arn:aws:dynamodb:us-east-1:1:table/T"
    allow = Statement.parse({"Effect": "Allow", "Action": "DynamoDB:get*", "Resource": "arn:aws:dynamodb:*:*:table/?"})
    assert evaluate([allow], "dynamodb:GetItem", table)
    assert not evaluate([allow], "dynamodb:PutItem", table)
    exact = Statement.parse({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table})
    assert not evaluate([exact], "dynamodb:GetItem", table.lower())  # ARNs match case-sensitively
    assert not evaluate([allow], "dynamodb:GetItem", f"{table}X")
    conditioned = Statement.parse(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": ["a", "b"]}},
        }
    )
    assert evaluate([conditioned], "kms:Decrypt", "k", {"kms:ViaService": "b"})
    assert not evaluate([conditioned], "kms:Decrypt", "k", {})  # an absent key does not match
    assert dynamodb_authorizations(
        "DynamoDB_20120810.TransactWriteItems",
        {"TransactItems": [{"ConditionCheck": {"TableName": table}}, {"Delete": {"TableName": "U"}}]},
        "us-east-1",
        "1",
    ) == [("dynamodb:ConditionCheckItem", table), ("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:1:table/U")]
    assert ssm_authorizations("AmazonSSM.GetParameter", {"Name": "plain:3"}, "r", "1") == [
        ("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/plain")
    ]
