"""One pseudonym key for every function, and no stand-in for it (issue 15, "Silent fallbacks").

Blocks are pseudonyms (HMAC of recipient and sender under the key) and ban records are keyed from it too, so a
function computing them under another key would not find what the others wrote. Before, a function configured
without the secret derived a key of its own from the bot token: the cron (which stores a gift's held message when
reconciliation finds its lost payment) did, and let a blocked sender's message through. Now every function is
configured with the one secret, and on Lambda a function without it does not start."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from murmur.delivery import LEASE_SECONDS
from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, payment_rows, person, send


def _inbox_texts(stack: LocalStack, owner: dict[str, Any]) -> list[str]:
    client = stack.dynamodb_client()
    try:
        items = client.query(
            TableName=stack.env["MESSAGES_TABLE"],
            KeyConditionExpression="recipient_id = :r",
            ExpressionAttributeValues={":r": {"N": str(owner["id"])}},
            ConsistentRead=True,
        )["Items"]
    finally:
        client.close()
    return sorted(item["text"]["S"] for item in items)


def test_the_cron_finds_a_block_set_after_a_lost_gift_payment_and_refunds_it(stack: LocalStack) -> None:
    # Given a sender whose gift message waits for its payment, paid at Telegram with the update lost
    owner, sender = person("Owner"), person("Sender")
    first = send(stack, owner, sender, "a first message")
    held = stack.api(
        "POST",
        f"/api/links/{link_code(stack, owner)}/messages",
        user=sender,
        json={"text": "the gift's message", "gift": "heart"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert held.status == 201, held.body
    lost = stack.pay_invoice(sender, held.json()["gift_invoice"]["invoice_link"], deliver=False)
    assert lost["status"] == "paid"

    # When the owner blocks that sender, and then the cron's reconciliation finds the payment
    assert stack.api("POST", f"/api/messages/{first['message_id']}/block", user=owner).status == 200
    report = stack.run_cron()

    # Then the cron sees the block the API wrote (same key): the message is not stored and the Stars go back
    assert report["failed_steps"] == [] and report["payments_flagged"] == 1
    assert _inbox_texts(stack, owner) == ["a first message"]
    (row,) = payment_rows(stack, lost["charge_id"])
    assert row["flag"]["S"] == "message_refused"
    stack.advance_clock(LEASE_SECONDS + 60)  # the refund owed is held by the run that owed it, then sent by the next
    stack.run_cron()
    assert len(stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=lost["charge_id"])) == 1


def test_on_lambda_a_function_without_the_pseudonym_secret_fails_at_start(caplog: pytest.LogCaptureFixture) -> None:
    # Given the API deployed without its pseudonym secret (the parameter's name left empty)
    with LocalStack(extra_function_env={"MURMUR_PSEUDONYM_SECRET_PARAM": ""}) as stack:
        # When a request reaches it
        answer = stack.api("GET", "/api/me", user=person())

        # Then the container does not start (API Gateway answers 500), and the init error names what is missing
        assert answer.status == 500
        named = "the pseudonym secret (MURMUR_PSEUDONYM_SECRET or MURMUR_PSEUDONYM_SECRET_PARAM)"
        assert f"not configured with {named}" in caplog.text
