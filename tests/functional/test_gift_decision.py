"""A gift's payment cancelled is a question, not a send (issue 16, ADR 0011): a message sent with a gift waits in
the gift's order, where nobody sees it, until the gift is paid (then it is stored with the gift, counted and
announced once) or the sender decides: "Keep editing" cancels the order and leaves nothing behind, "Send without
the gift" cancels it and sends the message plainly. Through the real API, webhook, cron and fake Bot API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from murmur import texts
from sandbox.local_stack import ApiResponse, LocalStack
from tests.functional.helpers import link_code, payment_rows, person, read


class Tables:
    """What the operator sees in the tables, whatever the API answered."""

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

    def order(self, order_id: str) -> dict[str, Any] | None:
        found = self.client.get_item(
            TableName=self.stack.env["ORDERS_TABLE"], Key={"order_id": {"S": order_id}}, ConsistentRead=True
        ).get("Item")
        return dict(found) if found else None

    def announced(self, owner: dict[str, Any]) -> int:
        items = self.client.scan(
            TableName=self.stack.env["STATE_TABLE"],
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": f"outbox#notify#{owner['id']}"}},
            ConsistentRead=True,
        )["Items"]
        return sum(int(item["seq"]["N"]) for item in items)


@pytest.fixture
def tables(stack: LocalStack) -> Iterator[Tables]:
    found = Tables(stack)
    yield found
    found.client.close()


def _send(stack: LocalStack, code: str, sender: dict[str, Any], text: str, **extra: Any) -> ApiResponse:
    return stack.api(
        "POST",
        f"/api/links/{code}/messages",
        user=sender,
        json={"text": text, **extra},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def _with_gift(stack: LocalStack, owner: dict[str, Any], sender: dict[str, Any], text: str) -> dict[str, Any]:
    sent = _send(stack, link_code(stack, owner), sender, text, gift="heart")
    assert sent.status == 201, sent.body
    return dict(sent.json())


def _cancel(stack: LocalStack, sender: dict[str, Any], order_id: str) -> ApiResponse:
    return stack.api("DELETE", f"/api/orders/{order_id}", user=sender)


def test_until_the_gift_is_decided_nobody_sees_the_message(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    sent = _with_gift(stack, owner, sender, "a heart comes with this")
    assert tables.messages_of(owner) == [] and tables.announced(owner) == 0
    assert stack.api("GET", "/api/inbox", user=owner).json()["messages"] == []
    assert stack.api("GET", f"/api/messages/{sent['message_id']}", user=owner).status == 404
    assert stack.api("GET", "/api/me", user=owner).json()["received"] == 0


def test_keep_editing_cancels_the_order_and_leaves_nothing_behind(stack: LocalStack, tables: Tables) -> None:
    # Given a message sent with a gift whose payment the sender cancelled in the Stars sheet
    owner, sender = person(), person()
    sent = _with_gift(stack, owner, sender, "second thoughts")
    invoice = sent["gift_invoice"]
    assert stack.pay_invoice(sender, invoice["invoice_link"], confirm=False)["status"] == "cancelled"

    # When they choose "Keep editing": the Mini App cancels the order
    assert _cancel(stack, sender, invoice["order_id"]).status == 200

    # Then nothing is stored anywhere: no message, no order holding its text, no count, no notice
    assert tables.messages_of(owner) == [] and tables.order(invoice["order_id"]) is None
    assert tables.announced(owner) == 0
    # And the old invoice can no longer be paid: Telegram's sheet is refused before any charge
    refused = stack.pay_invoice(sender, invoice["invoice_link"])
    assert refused["status"] == "failed"
    assert refused["error_message"] == texts.text("reject_unknown_order", "en")
    # And a second cancel, or someone else's, is a 404
    assert _cancel(stack, sender, invoice["order_id"]).status == 404
    assert _cancel(stack, person(), invoice["order_id"]).status == 404


def test_send_without_the_gift_stores_it_once_plainly(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    sent = _with_gift(stack, owner, sender, "never mind the heart")
    assert _cancel(stack, sender, sent["gift_invoice"]["order_id"]).status == 200
    plain = _send(stack, link_code(stack, owner), sender, "never mind the heart")
    assert plain.status == 201 and plain.json()["gift_invoice"] is None

    (stored,) = tables.messages_of(owner)
    assert stored["text"]["S"] == "never mind the heart" and stored["gifts"]["M"] == {}
    assert tables.announced(owner) == 1


def test_paying_stores_the_message_with_its_gift_once_and_a_late_cancel_is_a_conflict(
    stack: LocalStack, tables: Tables
) -> None:
    owner, sender = person(), person()
    sent = _with_gift(stack, owner, sender, "paid with love")
    paid = stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])
    assert paid["status"] == "paid" and paid["webhook_status"] == 200
    assert stack.webhook(paid["update"]).status == 200  # Telegram delivers it again: nothing more happens

    (stored,) = tables.messages_of(owner)
    assert stored["message_id"]["S"] == sent["message_id"]
    assert read(stack, owner, sent["message_id"])["gifts"] == ["heart"]
    assert tables.announced(owner) == 1
    cancelled = _cancel(stack, sender, sent["gift_invoice"]["order_id"])
    assert cancelled.status == 409 and cancelled.json()["error"]["code"] == "conflict"


def test_a_paused_inbox_refuses_the_gift_before_telegram_charges(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person(lang="es")
    sent = _with_gift(stack, owner, sender, "just before the pause")
    assert stack.api("PATCH", "/api/me", user=owner, json={"accepts_messages": False}).status == 200
    refused = stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])
    assert refused["status"] == "failed" and refused["error_message"] == texts.text("reject_not_accepting", "es")
    assert tables.messages_of(owner) == [] and not stack.bot_api.calls("refundStarPayment")


def test_a_message_the_inbox_no_longer_takes_when_paid_is_not_stored_and_the_gift_is_refunded_once(
    stack: LocalStack, tables: Tables
) -> None:
    # Given an owner who takes one message a day, and a gift's message waiting while another message fills it
    owner, sender = person(), person()
    assert stack.api("PATCH", "/api/me", user=owner, json={"daily_cap": 1}).status == 200
    sent = _with_gift(stack, owner, sender, "one too many")
    assert _send(stack, link_code(stack, owner), person(), "first of the day").status == 201

    # When the gift is paid
    paid = stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])
    assert paid["status"] == "paid" and paid["webhook_status"] == 200

    # Then the message is not stored, and the Stars go back once, with the reason said
    assert [m["text"]["S"] for m in tables.messages_of(owner)] == ["first of the day"]
    (row,) = payment_rows(stack, paid["charge_id"])
    assert row["flag"]["S"] == "message_refused"
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=paid["charge_id"])) == 1
    told = stack.bot_api.messages_to(sender["id"])[-1]["text"]
    assert texts.text("refund_reason_message_refused", "en") in told


def test_a_lost_payment_update_stores_the_message_through_the_cron(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    sent = _with_gift(stack, owner, sender, "the update got lost")
    lost = stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"], deliver=False)
    assert tables.messages_of(owner) == []

    stack.run_cron()  # reconciliation finds the charge in getStarTransactions

    assert read(stack, owner, sent["message_id"])["gifts"] == ["heart"]
    assert len(payment_rows(stack, lost["charge_id"])) == 1 and tables.announced(owner) == 1


def _calls(stack: LocalStack, function: str) -> dict[str, int]:
    return {op: count for (name, op), count in stack.aws.operations().items() if name == function}


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}


def test_what_a_held_send_and_its_payment_cost_in_dynamodb_calls(stack: LocalStack, tables: Tables) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    api_before = _calls(stack, "MiniAppApiFunction")
    sent = _send(stack, code, sender, "measured, with a heart", gift="heart").json()
    held = _spent(api_before, _calls(stack, "MiniAppApiFunction"))
    hook_before = _calls(stack, "WebhookFunction")
    assert stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])["status"] == "paid"
    paid = _spent(hook_before, _calls(stack, "WebhookFunction"))
    # The send: the link, sender and ban in one read, the owner's controls, one transaction (receipt + order).
    assert held == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}
    # Pre-checkout (order, payer and ban; the send's admission; the owner's controls), then the payment (order and
    # payer; the admission and the controls again, as a send reads them; one transaction: ledger row, order,
    # message, rate window, tally shard) and the owner's announcement.
    assert paid == {"BatchGetItem": 4, "GetItem": 2, "TransactWriteItems": 1, "UpdateItem": 1}
    assert tables.announced(owner) == 1
