"""Object-level authorization: a message or an order is reachable only by its owner.

User B knows (or guesses) the id of one of A's messages. Every route that takes a message id answers B
with the same 404 as for a message that does not exist, and nothing changes for A. B cannot see A's
orders either."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE, BOB, CARLA, DMITRI

OWNER, INTRUDER = DMITRI, CARLA


@pytest.fixture
def owners_message(stack: LocalStack) -> dict[str, Any]:
    code = stack.api("GET", "/api/me", user=OWNER).json()["link"]["code"]
    sent = stack.api("POST", f"/api/links/{code}/messages", user=BOB, json={"text": "for Dmitri only, nobody else"})
    assert sent.status == 201, sent.body
    message_id = sent.json()["message_id"]
    order = stack.api("POST", "/api/orders", user=OWNER, json={"product": "unlock", "message_id": message_id})
    assert order.status == 201, order.body
    stack.api("GET", "/api/me", user=INTRUDER)  # the intruder is a registered user with their own inbox
    stack.bot_api.clear()
    return {"message_id": message_id, "order_id": order.json()["order_id"]}


def snapshot(stack: LocalStack) -> str:
    """Everything the owner can see of their inbox and message, plus the state table's size."""
    inbox = stack.api("GET", "/api/inbox", user=OWNER).json()
    client = stack.dynamodb_client()
    try:
        state = client.scan(TableName=stack.tables["STATE_TABLE"], Select="COUNT", ConsistentRead=True)["Count"]
        orders = client.scan(TableName=stack.tables["ORDERS_TABLE"], Select="COUNT", ConsistentRead=True)["Count"]
    finally:
        client.close()
    return json.dumps([inbox, state, orders])


def assert_not_found(response: Any) -> None:
    assert response.status == 404, response.body
    assert response.json()["error"]["code"] == "not_found"


def test_another_user_cannot_touch_a_message(stack: LocalStack, owners_message: dict[str, Any]) -> None:
    message_id = owners_message["message_id"]
    before = snapshot(stack)
    attempts = [
        ("GET", f"/api/messages/{message_id}", None),
        ("POST", f"/api/messages/{message_id}/reply", {"text": "I am not the owner"}),
        ("POST", f"/api/messages/{message_id}/block", None),
        ("POST", f"/api/messages/{message_id}/report", {"reason": "mine now"}),
        ("POST", "/api/orders", {"product": "unlock", "message_id": message_id}),
        ("POST", "/api/orders", {"product": "hint", "message_id": message_id}),
    ]
    for method, path, body in attempts:
        assert_not_found(stack.api(method, path, user=INTRUDER, json=body))
    # The same answer as for a message that never existed: nothing to learn from the difference.
    absent = stack.api("GET", f"/api/messages/{message_id[:-8]}00000000", user=INTRUDER)
    assert_not_found(absent)
    assert absent.json() == stack.api("GET", f"/api/messages/{message_id}", user=INTRUDER).json()

    assert snapshot(stack) == before
    assert not stack.bot_api.calls("sendMessage") and not stack.bot_api.calls("createInvoiceLink")
    # The intruder's own inbox does not show it, and the owner still can read and block it.
    assert stack.api("GET", "/api/inbox", user=INTRUDER).json()["messages"] == []
    assert stack.api("GET", f"/api/messages/{message_id}", user=OWNER).status == 200


def test_the_sender_cannot_read_their_message_through_the_owners_routes(
    stack: LocalStack, owners_message: dict[str, Any]
) -> None:
    """Having written it does not make it yours: the sender (Bob) gets 404s too."""
    message_id = owners_message["message_id"]
    assert_not_found(stack.api("GET", f"/api/messages/{message_id}", user=BOB))
    assert_not_found(stack.api("POST", f"/api/messages/{message_id}/block", user=BOB))


def test_another_user_cannot_see_an_order(stack: LocalStack, owners_message: dict[str, Any]) -> None:
    order_id = owners_message["order_id"]
    assert stack.api("GET", f"/api/orders/{order_id}", user=OWNER).json()["status"] == "pending"
    for intruder in (INTRUDER, ALICE):
        assert_not_found(stack.api("GET", f"/api/orders/{order_id}", user=intruder))


def test_an_invoice_for_someone_elses_order_is_refused_at_checkout(
    stack: LocalStack, owners_message: dict[str, Any]
) -> None:
    """Even holding the owner's invoice link, another payer is refused by pre-checkout and nothing unlocks."""
    order = stack.api(
        "POST", "/api/orders", user=OWNER, json={"product": "unlock", "message_id": owners_message["message_id"]}
    ).json()
    paid = stack.pay_invoice(INTRUDER, order["invoice_link"])
    assert paid["status"] == "failed", paid
    message = stack.api("GET", f"/api/messages/{owners_message['message_id']}", user=OWNER).json()
    assert message["locked"] is True
