"""The product end to end through the real handlers: API Gateway events, moto, the fake Bot API."""

from __future__ import annotations

from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE, BOB


def test_share_send_notify_preview_unlock_read(stack: LocalStack) -> None:
    me = stack.api("GET", "/api/me", user=ALICE)
    assert me.status == 200, me.body
    code = me.json()["link"]["code"]
    assert me.json()["link"]["url"].endswith(f"?startapp={code}")

    page = stack.api("GET", f"/api/links/{code}", user=BOB)
    assert page.status == 200 and page.json()["display_name"] == "Alice"
    assert len(page.json()["hint_ladder"]) == 3

    sent = stack.api("POST", f"/api/links/{code}/messages", user=BOB, json={"text": "You make every day brighter"})
    assert sent.status == 201, sent.body
    message_id = sent.json()["message_id"]

    before = len(stack.bot_api.messages_to(ALICE))
    stack.run_cron()  # the owner hears of it from the cron, not on the sender's request
    notes = stack.bot_api.messages_to(ALICE)
    assert len(notes) == before + 1 and "You make every…" in notes[-1]["text"]
    assert "Bob" not in notes[-1]["text"] and str(BOB) not in str(notes[-1])

    inbox = stack.api("GET", "/api/inbox", user=ALICE).json()
    item = inbox["messages"][0]
    assert item["preview"] == "You make every…" and item["locked"] and item["text"] is None

    order = stack.api("POST", "/api/orders", user=ALICE, json={"product": "unlock", "message_id": message_id})
    assert order.status == 201, order.body
    assert order.json()["amount"] == 1
    paid = stack.pay_invoice(ALICE, order.json()["invoice_link"])
    assert paid["status"] == "paid", paid

    read = stack.api("GET", f"/api/messages/{message_id}", user=ALICE).json()
    assert read["text"] == "You make every day brighter" and not read["locked"]
    assert "unlocked" in stack.bot_api.messages_to(ALICE)[-1]["text"]
