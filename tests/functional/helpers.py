"""Small steps shared by the functional tests: fresh people, a message between them, buying."""

from __future__ import annotations

import itertools
from typing import Any

from sandbox.local_stack import LocalStack

# Ten-digit ids, as Telegram's newer accounts have: never mistaken for a nickname's five-digit number by the
# identity audit, which looks for every sender id in everything the product says.
_ids = itertools.count(7_000_000_000)


def person(name: str = "Pat", lang: str = "en", premium: bool = False) -> dict[str, Any]:
    """A Telegram user nobody has seen yet, so each test starts from a clean account."""
    uid = next(_ids)
    user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": name, "language_code": lang}
    if premium:
        user["is_premium"] = True
    return user


def link_code(stack: LocalStack, owner: dict[str, Any]) -> str:
    me = stack.api("GET", "/api/me", user=owner)
    assert me.status == 200, me.body
    return str(me.json()["link"]["code"])


def send(stack: LocalStack, owner: dict[str, Any], sender: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    code = link_code(stack, owner)
    sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": text, **extra})
    assert sent.status == 201, sent.body
    return dict(sent.json())


def order(stack: LocalStack, buyer: dict[str, Any], product: str, message_id: str | None = None) -> Any:
    body: dict[str, Any] = {"product": product}
    if message_id:
        body["message_id"] = message_id
    return stack.api("POST", "/api/orders", user=buyer, json=body)


def buy(stack: LocalStack, buyer: dict[str, Any], product: str, message_id: str | None = None) -> dict[str, Any]:
    created = order(stack, buyer, product, message_id)
    assert created.status == 201, created.body
    paid = stack.pay_invoice(buyer, created.json()["invoice_link"])
    assert paid["status"] == "paid", paid
    assert paid["webhook_status"] == 200
    return {**created.json(), **paid}


def read(stack: LocalStack, owner: dict[str, Any], message_id: str) -> dict[str, Any]:
    got = stack.api("GET", f"/api/messages/{message_id}", user=owner)
    assert got.status == 200, got.body
    return dict(got.json())


def operator_services(stack: LocalStack) -> Any:
    """The application's objects built in the test's own process, with the operator's rights (no IAM): for
    reading state the API does not show, or for racing many "containers" at the domain level."""
    from murmur.composition import Services
    from murmur.config import Settings

    return Services(Settings.from_env(stack.env))


def services_as(stack: LocalStack, function: str, settings: Any = None) -> Any:
    """The application's objects in the test's own process, acting as one of the template's functions: its
    role's credentials, through the strict endpoint (IAM, transaction conflicts), as a container would.
    For races at the domain level, many of these stand for many containers."""
    from botocore.config import Config

    from murmur.composition import Services
    from murmur.config import Settings
    from murmur.store.botocore_session import botocore_session

    key, secret = stack.aws.credentials(function)
    client = botocore_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=stack.aws.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
    return Services(settings or Settings.from_env(stack.env), client=client)


def payments_table(stack: LocalStack) -> str:
    return str(stack.env["PAYMENTS_TABLE"])


def payment_rows(stack: LocalStack, charge_id: str) -> list[dict[str, Any]]:
    client = stack.dynamodb_client()
    item = client.get_item(TableName=payments_table(stack), Key={"charge_id": {"S": charge_id}}).get("Item")
    return [item] if item else []
