"""Sending with a gift, atomic and idempotent (issue 12): a send carries the client's `Idempotency-Key`; the
gift's pending order, holding the message until it is paid (ADR 0011), and the key's receipt are one transaction,
and a retry with the key answers with the first result. A gift on an older message reads that one message, and
only its sender may buy it, unless blocked or banned. All through the strict stack: IAM from the template,
conflicts, the fake Bot API."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from murmur.store.receipts import ReceiptsRepository
from sandbox.local_stack import ApiResponse, LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import link_code, order, person, read, send

API = "MiniAppApiFunction"
DAY = 86400


# ---------------------------------------------------------------------- what the operator sees
class Tables:
    """The tables as the operator reads them: what a send left behind, whatever the API answered."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.client = stack.dynamodb_client()

    def messages_of(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        return list(
            self.client.query(
                TableName=self.stack.env["MESSAGES_TABLE"],
                KeyConditionExpression="recipient_id = :r",
                ExpressionAttributeValues={":r": {"N": str(owner["id"])}},
                ConsistentRead=True,
            )["Items"]
        )

    def orders_of(self, buyer: dict[str, Any]) -> list[dict[str, Any]]:
        return self._scan("ORDERS_TABLE", "buyer_id = :v", {":v": {"N": str(buyer["id"])}})

    def state_items(self, prefix: str) -> list[dict[str, Any]]:
        return self._scan("STATE_TABLE", "begins_with(pk, :v)", {":v": {"S": prefix}})

    def receipt(self, sender: dict[str, Any], key: str) -> dict[str, Any] | None:
        found = self.client.get_item(
            TableName=self.stack.env["STATE_TABLE"], Key=ReceiptsRepository.key(sender["id"], key), ConsistentRead=True
        ).get("Item")
        return dict(found) if found else None

    def announced(self, owner: dict[str, Any]) -> int:
        """How many sends asked for the owner's "new messages" notice (its `seq`)."""
        items = self.state_items(f"outbox#notify#{owner['id']}")
        return sum(int(item["seq"]["N"]) for item in items)

    def window_count(self, sender: dict[str, Any]) -> int:
        return sum(int(item["count"]["N"]) for item in self.state_items(f"rate#send#{sender['id']}#"))

    def _scan(self, table: str, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.stack.env[table],
            "FilterExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            page = self.client.scan(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def tables(stack: LocalStack) -> Iterator[Tables]:
    view = Tables(stack)
    yield view
    view.client.close()


def post(stack: LocalStack, code: str, sender: dict[str, Any], key: str | None, **body: Any) -> ApiResponse:
    headers = {"Idempotency-Key": key} if key is not None else None
    return stack.api("POST", f"/api/links/{code}/messages", user=sender, json=body, headers=headers)


def key_for(name: str) -> str:
    """A client's key, as the Mini App makes one (crypto.randomUUID), distinct per test."""
    return f"{name}-{person()['id']}-7c9e6679-7425-40de-944b"


def api_calls(stack: LocalStack) -> dict[str, int]:
    return {op: count for (function, op), count in stack.aws.operations().items() if function == API}


def calls_since(stack: LocalStack, before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in api_calls(stack).items() if n != before.get(op, 0)}


# ---------------------------------------------------------------------- 1. one send, whatever the retries
def test_the_same_send_twice_stores_counts_and_announces_one_message(stack: LocalStack, tables: Tables) -> None:
    # Given a sender whose first answer was lost, so the Mini App sends the same message with its key again
    owner, sender = person("Owner"), person("Sender")
    code, key = link_code(stack, owner), key_for("twice")
    first = post(stack, code, sender, key, text="did you get this?")
    again = post(stack, code, sender, key, text="did you get this?")

    # Then both answers are the first result, and the second says it is a replay
    assert (first.status, again.status) == (201, 201), again.body
    assert again.json() == first.json() and again.json()["gift_invoice"] is None
    assert first.header("Idempotent-Replayed") is None and again.header("Idempotent-Replayed") == "true"
    # And there is one message, counted once, one step of the sender's rate window, one announcement
    assert [m["message_id"]["S"] for m in tables.messages_of(owner)] == [first.json()["message_id"]]
    me = stack.api("GET", "/api/me", user=owner).json()
    assert (me["received"], me["unread"]) == (1, 1)
    assert tables.window_count(sender) == 1
    assert tables.announced(owner) == 1
    # And the key's receipt, which outlives an erasure for the rest of its day, does not name the sender
    receipt = tables.receipt(sender, key)
    assert receipt is not None and int(receipt["ttl"]["N"]) <= stack.now() + DAY
    assert {"N": str(sender["id"])} not in receipt.values() and re.fullmatch(
        r"receipt#send#[0-9a-f]{40}", receipt["pk"]["S"]
    )

    # And keys are per sender: another one who guesses (or copies) the key learns nothing of the first send
    theirs = post(stack, code, person("Mallory"), key, text="did you get this?")
    assert theirs.status == 201 and theirs.json()["message_id"] != first.json()["message_id"]
    assert theirs.header("Idempotent-Replayed") is None and len(tables.messages_of(owner)) == 2


def test_the_same_key_for_another_message_is_refused_and_writes_nothing(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    code, key = link_code(stack, owner), key_for("reuse")
    assert post(stack, code, sender, key, text="the first message").status == 201

    for body in ({"text": "a different message"}, {"text": "the first message", "gift": "heart"}):
        refused = post(stack, code, sender, key, **body)
        assert refused.status == 409 and refused.json()["error"]["code"] == "idempotency_key_reused"
    other_code = link_code(stack, person())
    assert post(stack, other_code, sender, key, text="the first message").status == 409

    assert len(tables.messages_of(owner)) == 1 and tables.window_count(sender) == 1
    assert tables.orders_of(sender) == [] and not stack.bot_api.calls("createInvoiceLink")


def test_when_the_invoice_link_fails_the_retry_returns_the_message_once_with_its_gift_invoice(
    stack: LocalStack, tables: Tables
) -> None:
    # Given Telegram failing the gift's createInvoiceLink once, after the message was stored
    owner, sender = person("Owner"), person("Giver")
    code, key = link_code(stack, owner), key_for("invoice")
    stack.bot_api.fail_next("createInvoiceLink", 500)
    failed = post(stack, code, sender, key, text="a crown for you", gift="crown")
    assert failed.status == 503, failed.body

    # When the Mini App retries the same message with its key
    retried = post(stack, code, sender, key, text="a crown for you", gift="crown")

    # Then it gets the message's id and the gift's invoice, for the one order made, which holds the message
    assert retried.status == 201, retried.body
    sent = retried.json()
    assert tables.messages_of(owner) == []  # nothing the owner can see until the gift is paid (ADR 0011)
    (gift_order,) = tables.orders_of(sender)
    assert sent["gift_invoice"]["order_id"] == gift_order["order_id"]["S"]
    assert gift_order["message_id"]["S"] == sent["message_id"] and gift_order["recipient_id"]["N"] == str(owner["id"])
    assert gift_order["held"]["M"]["text"]["S"] == "a crown for you"
    assert sent["gift_invoice"]["amount"] == 50 and sent["gift_invoice"]["product"] == "gift_crown"
    assert tables.announced(owner) == 0 and tables.window_count(sender) == 0
    # And paying it stores the message once, with its gift, counted and announced once
    assert stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])["status"] == "paid"
    (stored,) = tables.messages_of(owner)
    assert sent["message_id"] == stored["message_id"]["S"]
    assert read(stack, owner, sent["message_id"])["gifts"] == ["crown"]
    assert tables.announced(owner) == 1 and tables.window_count(sender) == 1
    assert "held" not in tables.orders_of(sender)[0]  # no second copy of the text once it is stored


def test_concurrent_sends_with_one_key_store_exactly_one_message(stack: LocalStack, tables: Tables) -> None:
    # Given a client that fired the same send four times at once (a double tap and a network retry)
    owner, sender = person(), person()
    code, key = link_code(stack, owner), key_for("race")
    barrier = threading.Barrier(4)
    answers: list[ApiResponse] = []

    def fire() -> None:
        barrier.wait()
        answers.append(post(stack, code, sender, key, text="at the same time", gift="heart"))

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    # Then every answer is the one result: one order holding the message (ADR 0011), nothing counted or announced
    assert [a.status for a in answers] == [201] * 4, [a.body for a in answers]
    assert len({a.json()["message_id"] for a in answers}) == 1
    assert len({a.json()["gift_invoice"]["order_id"] for a in answers}) == 1
    assert tables.messages_of(owner) == [] and len(tables.orders_of(sender)) == 1
    assert tables.window_count(sender) == 0 and tables.announced(owner) == 0
    # And once paid: one message, one count, one announcement
    assert stack.pay_invoice(sender, answers[0].json()["gift_invoice"]["invoice_link"])["status"] == "paid"
    assert len(tables.messages_of(owner)) == 1
    assert tables.window_count(sender) == 1 and tables.announced(owner) == 1


def test_a_storage_fault_at_the_sends_transaction_leaves_nothing_and_the_retry_stores_one(
    stack: LocalStack, tables: Tables
) -> None:
    # Given DynamoDB failing every write of the gift's order, botocore's own retries included
    owner, sender = person(), person()
    code, key = link_code(stack, owner), key_for("fault")
    stack.aws.inject("*", "InternalServerError", times=10, table=stack.env["ORDERS_TABLE"], function=API)
    try:
        failed = post(stack, code, sender, key, text="flaky storage, firm intent", gift="fire")
    finally:
        stack.aws.clear_injected()

    # Then the sender is told to retry, and the owner has nothing: no message, no count, no notice
    assert failed.status == 503, failed.body
    assert tables.messages_of(owner) == [] and tables.orders_of(sender) == []
    assert tables.announced(owner) == 0 and tables.window_count(sender) == 0

    # And the retry with the key stores exactly one order holding the message (ADR 0011)
    retried = post(stack, code, sender, key, text="flaky storage, firm intent", gift="fire")
    assert retried.status == 201, retried.body
    assert tables.messages_of(owner) == [] and len(tables.orders_of(sender)) == 1
    once_more = post(stack, code, sender, key, text="flaky storage, firm intent", gift="fire").json()
    assert once_more["message_id"] == retried.json()["message_id"]
    assert once_more["gift_invoice"]["order_id"] == retried.json()["gift_invoice"]["order_id"]
    assert stack.pay_invoice(sender, once_more["gift_invoice"]["invoice_link"])["status"] == "paid"
    assert len(tables.messages_of(owner)) == 1 and tables.announced(owner) == 1


@pytest.mark.parametrize(
    "bad_key",
    ["", "short", "x" * 65, "with space-123", "slash/abc-123", "plus+abc=123", "dot.abc.123", "ключ-ключ-ключ"],
)
def test_a_bad_idempotency_key_is_422_and_nothing_is_written(stack: LocalStack, tables: Tables, bad_key: str) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    refused = post(stack, code, sender, bad_key, text="with a bad key", gift="heart")
    assert refused.status == 422, refused.body
    assert refused.json()["error"]["code"] == "validation_error"
    assert tables.messages_of(owner) == [] and tables.orders_of(sender) == []
    assert tables.receipt(sender, bad_key) is None and tables.window_count(sender) == 0
    assert not stack.bot_api.calls("createInvoiceLink")


# ---------------------------------------------------------------------- 2. a gift on an older message
def test_a_gift_on_an_older_message_reads_that_message_only(stack: LocalStack, tables: Tables) -> None:
    # Given a sender with many messages sent, to several inboxes
    owners = [person(f"Owner{i}") for i in range(3)]
    codes = [link_code(stack, owner) for owner in owners]
    sender = person("Prolific")
    sent = [send(stack, owner, sender, f"note {i} to {owner['first_name']}") for i in range(5) for owner in owners]
    oldest = sent[0]["message_id"]

    # When they buy a gift for their oldest message, naming the inbox it went to
    before = api_calls(stack)
    created = stack.api(
        "POST", "/api/orders", user=sender, json={"product": "gift_heart", "message_id": oldest, "link_code": codes[0]}
    )

    # Then the order is for that message, made with one read of the link and one of the message, no Query
    assert created.status == 201, created.body
    assert calls_since(stack, before) == {"BatchGetItem": 1, "GetItem": 1, "PutItem": 1}
    (gift_order,) = tables.orders_of(sender)
    assert gift_order["message_id"]["S"] == oldest and gift_order["recipient_id"]["N"] == str(owners[0]["id"])
    assert stack.pay_invoice(sender, created.json()["invoice_link"])["status"] == "paid"
    assert read(stack, owners[0], oldest)["gifts"] == ["heart"]


def test_a_gift_on_a_message_the_buyer_did_not_send_is_404_and_writes_nothing(
    stack: LocalStack, tables: Tables
) -> None:
    owner, author, stranger = person(), person("Author"), person("Stranger")
    code = link_code(stack, owner)
    theirs = send(stack, owner, author, "written by the author")["message_id"]
    mine = send(stack, person(), stranger, "written by the stranger elsewhere")["message_id"]

    for message_id, link in ((theirs, code), (mine, code), ("1" * 13 + "0" * 8, code)):
        before = api_calls(stack)
        refused = order_gift(stack, stranger, message_id, link)
        assert refused.status == 404, refused.body
        assert refused.json()["error"] == {"code": "not_found", "message": "no such message"}
        assert "PutItem" not in calls_since(stack, before)
    assert tables.orders_of(stranger) == [] and not stack.bot_api.calls("createInvoiceLink")


def test_a_gift_on_an_older_message_needs_the_link_it_went_to(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "which inbox was it?")["message_id"]
    missing = order(stack, sender, "gift_fire", mid)
    assert missing.status == 404 and missing.json()["error"]["code"] == "not_found"  # named by link and id
    malformed = order_gift(stack, sender, mid, "not-a-code")
    assert malformed.status == 422
    assert tables.orders_of(sender) == []


def order_gift(stack: LocalStack, buyer: dict[str, Any], message_id: str, code: str) -> ApiResponse:
    body = {"product": "gift_heart", "message_id": message_id, "link_code": code}
    return stack.api("POST", "/api/orders", user=buyer, json=body)


# ---------------------------------------------------------------------- 3. blocked and banned senders
def test_a_blocked_sender_can_no_longer_buy_a_gift_on_an_old_message(stack: LocalStack, tables: Tables) -> None:
    # Given an owner who blocked a sender from one of their messages
    owner, sender = person(), person()
    code = link_code(stack, owner)
    mid = send(stack, owner, sender, "you will block me")["message_id"]
    assert stack.api("POST", f"/api/messages/{mid}/block", user=owner).status == 200

    # When the sender tries to buy a gift for that message, they hear what a send tells them
    said_by_send = post(stack, code, sender, None, text="let me in")
    refused = order_gift(stack, sender, mid, code)
    assert refused.status == said_by_send.status == 403
    assert refused.json()["error"] == said_by_send.json()["error"]
    assert refused.json()["error"]["code"] == "blocked"
    # And nothing is written or asked of Telegram
    assert tables.orders_of(sender) == [] and not stack.bot_api.calls("createInvoiceLink")


def test_a_banned_sender_can_buy_no_gift_on_an_old_message(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    mid = send(stack, owner, sender, "before the ban")["message_id"]
    # An admin bans the sender (the operator knows whom; the owner never does)
    assert stack.send_text(ALICE, f"/ban {sender['id']}").status == 200
    assert stack.bot_api.messages_to(ALICE)[-1]["text"] == "Banned."

    said_by_send = post(stack, code, sender, key_for("banned"), text="after the ban", gift="heart")
    refused = order_gift(stack, sender, mid, code)
    assert refused.status == said_by_send.status == 403
    assert refused.json()["error"]["code"] == said_by_send.json()["error"]["code"] == "banned"
    assert tables.orders_of(sender) == [] and not stack.bot_api.calls("createInvoiceLink")


# ---------------------------------------------------------------------- keys expire (last: it moves the clock)
def test_a_key_answers_for_a_day_then_is_a_new_send(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    code, key = link_code(stack, owner), key_for("expiry")
    first = post(stack, code, sender, key, text="same words, a day apart").json()
    stack.advance_clock(DAY - 120)
    assert post(stack, code, sender, key, text="same words, a day apart").json() == first
    stack.advance_clock(240)
    later = post(stack, code, sender, key, text="same words, a day apart")
    assert later.status == 201 and later.json()["message_id"] != first["message_id"]
    assert len(tables.messages_of(owner)) == 2
