"""Bans that survive erasure, no ban oracle, bounded and resumable erasure, refunds after erasure (issue 12).

Everything goes through the real parts: the API and the webhook over HTTP, the admin's commands in the bot, the
cron, the fake Bot API's records, and IAM from the template. The 10,000 messages of the erasure test are written
straight to the table with the operator's rights (BatchWriteItem), as a long-lived inbox would have collected
them; erasing them goes through `DELETE /api/me` as the person would."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from murmur import texts
from murmur.models import Message
from murmur.privacy import FINISHES_WITHIN_MINUTES, REFUND_WINDOW_SECONDS
from sandbox.local_stack import ApiResponse, LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import buy, link_code, operator_services, person, send

TIMEOUT_SECONDS = 10  # the API function's Timeout in the template


def error_code(response: ApiResponse) -> str:
    return str(response.json()["error"]["code"])


def admin(stack: LocalStack, command: str) -> str:
    """An admin's command in the bot; the bot's answer to the admin."""
    assert stack.send_text(ALICE, command).status == 200
    return str(stack.bot_api.messages_to(ALICE)[-1]["text"])


def user_row(stack: LocalStack, user_id: int) -> dict[str, Any] | None:
    client = stack.dynamodb_client()
    try:
        key = {"user_id": {"N": str(user_id)}}
        item = client.get_item(TableName=stack.env["USERS_TABLE"], Key=key, ConsistentRead=True)
    finally:
        client.close()
    row: dict[str, Any] | None = item.get("Item")
    return row


def items_naming(stack: LocalStack, user_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every item of every table that holds the id, as a number or inside a key like `tally#<id>#3` (never as
    part of a longer run of digits or hex, as in a message id). A Scan: a test may, the application never does."""
    client = stack.dynamodb_client()
    named = re.compile(rf"(?<![0-9a-f]){user_id}(?![0-9a-f])")
    found = []
    try:
        for variable, table in stack.tables.items():
            for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                found += [(variable, i) for i in page["Items"] if named.search(json.dumps(i, ensure_ascii=False))]
    finally:
        client.close()
    return found


def inbox_size(stack: LocalStack, owner_id: int) -> int:
    client = stack.dynamodb_client()
    try:
        pages = client.get_paginator("query").paginate(
            TableName=stack.env["MESSAGES_TABLE"],
            KeyConditionExpression="recipient_id = :r",
            ExpressionAttributeValues={":r": {"N": str(owner_id)}},
            Select="COUNT",
            ConsistentRead=True,
        )
        return sum(int(page["Count"]) for page in pages)
    finally:
        client.close()


def fill_inbox(stack: LocalStack, owner_id: int, count: int) -> None:
    """`count` messages from one sender, written 25 to a BatchWriteItem with the operator's rights: the item the
    send path writes (`MessagesRepository.put_op`), without a send's rate limit."""
    services = operator_services(stack)
    messages = services.repos.messages
    now = int(stack.now())
    items = [
        messages.put_op(
            Message(
                recipient_id=owner_id,
                message_id=f"{(now - count + i) * 1000:013d}{i:08x}",
                sender_id=9_000_000_000 + owner_id,  # nobody the other tests know
                pseudonym="p" * 24,
                text=f"message number {i}",
                created_at=now - count + i,
                clues=["language:en"],
            )
        ).request["Put"]["Item"]
        for i in range(count)
    ]
    client = services.client
    for start in range(0, count, 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        left: dict[str, Any] = {stack.env["MESSAGES_TABLE"]: batch}
        while left:
            left = client.batch_write_item(RequestItems=left).get("UnprocessedItems") or {}
    assert inbox_size(stack, owner_id) == count


# ---------------------------------------------------------------------- 1. a ban survives erasure
def test_a_ban_survives_erasure_and_coming_back_without_keeping_the_id(stack: LocalStack) -> None:
    troll, owner = person("Troll"), person("Owner")
    code = link_code(stack, owner)
    link_code(stack, troll)  # the troll has an account, with a link of their own
    assert admin(stack, f"/ban {troll['id']}") == "Banned."
    assert stack.api("GET", "/api/me", user=troll).status == 403

    erased = stack.api("DELETE", "/api/me", user=troll)
    assert erased.status == 200 and erased.json()["erased"] is True

    # Back again: no new account, no message, no purchase.
    back = stack.api("GET", "/api/me", user=troll)
    assert back.status == 403 and error_code(back) == "banned"
    sent = stack.api("POST", f"/api/links/{code}/messages", user=troll, json={"text": "I am back, hello"})
    assert sent.status == 403 and error_code(sent) == "banned"
    answer = stack.pre_checkout(troll, "o_" + "A" * 24, 15)
    assert answer is not None and answer["ok"] is False
    assert answer["error_message"] == texts.text("reject_banned", "en")
    assert user_row(stack, troll["id"]) is None
    # What keeps the ban names no one: no item holds the id (the record is under a keyed hash).
    assert items_naming(stack, troll["id"]) == []

    # An admin can still lift it, and the person starts afresh.
    assert admin(stack, f"/unban {troll['id']}") == "Unbanned."
    assert stack.api("GET", "/api/me", user=troll).status == 200


def test_a_referral_is_counted_once_however_often_the_invitee_erases_and_comes_back(stack: LocalStack) -> None:
    inviter, other_inviter, invitee = person("Inviter"), person("Other"), person("Invitee")
    code, other_code = link_code(stack, inviter), link_code(stack, other_inviter)

    def referrals(user: dict[str, Any]) -> int:
        return int(stack.api("GET", "/api/me", user=user).json()["referrals"])

    assert stack.api("GET", "/api/me", user=invitee, start_param=f"ref_{code}").status == 200
    assert referrals(inviter) == 1
    for link in (code, other_code):  # the same link again, then another one
        assert stack.api("DELETE", "/api/me", user=invitee).status == 200
        assert stack.api("GET", "/api/me", user=invitee, start_param=f"ref_{link}").status == 200
    assert referrals(inviter) == 1
    assert referrals(other_inviter) == 0


# ---------------------------------------------------------------------- 2. no ban oracle
def test_a_banned_owners_link_looks_and_behaves_like_an_active_one(stack: LocalStack) -> None:
    banned_owner, active_owner, sender = person("Banned"), person("Active"), person("Sender")
    stack.bot_api.register_user(sender["id"], sender["first_name"], language_code="en")
    banned_code, active_code = link_code(stack, banned_owner), link_code(stack, active_owner)
    assert admin(stack, f"/ban {banned_owner['id']}") == "Banned."

    def page(code: str) -> dict[str, Any]:
        got = stack.api("GET", f"/api/links/{code}", user=sender)
        assert got.status == 200, got.body
        return {k: v for k, v in got.json().items() if k not in ("code", "display_name")}

    assert page(banned_code) == page(active_code)
    assert page(banned_code)["accepts_messages"] is True

    outcomes = []
    for code in (banned_code, active_code):
        sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "hi there", "gift": "heart"})
        assert sent.status == 201, sent.body
        paid = stack.pay_invoice(sender, sent.json()["gift_invoice"]["invoice_link"])
        outcomes.append((sorted(sent.json()), paid["status"], paid["webhook_status"]))
    assert outcomes[0] == outcomes[1] and outcomes[0][1] == "paid"

    # Stored, and kept from the banned owner while the ban stands (no inbox, no "new messages" notice); there
    # when it is lifted.
    stack.run_cron()
    assert stack.bot_api.messages_to(active_owner["id"]) and not stack.bot_api.messages_to(banned_owner["id"])
    hidden = stack.api("GET", "/api/inbox", user=banned_owner)
    assert hidden.status == 403 and error_code(hidden) == "banned"
    assert admin(stack, f"/unban {banned_owner['id']}") == "Unbanned."
    (message,) = stack.api("GET", "/api/inbox", user=banned_owner).json()["messages"]
    assert message["preview"] == "hi there" and message["gifts"] == ["heart"]


def test_a_reply_to_an_erased_sender_and_to_one_who_blocked_the_bot_get_the_same_answer(stack: LocalStack) -> None:
    owner, leaver, blocker = person("Owner"), person("Leaver"), person("Blocker")
    for user in (leaver, blocker):
        stack.bot_api.register_user(user["id"], user["first_name"], language_code="en")
    to_leaver = send(stack, owner, leaver, "from someone who leaves")["message_id"]
    to_blocker = send(stack, owner, blocker, "from someone who blocks")["message_id"]
    assert stack.api("DELETE", "/api/me", user=leaver).status == 200
    stack.bot_api.blocked_by(blocker["id"])

    answers = [
        stack.api("POST", f"/api/messages/{message_id}/reply", user=owner, json={"text": "who are you?"})
        for message_id in (to_leaver, to_blocker)
    ]
    assert [a.status for a in answers] == [409, 409]
    assert answers[0].json() == answers[1].json()
    assert error_code(answers[0]) == "reply_undeliverable"


# ---------------------------------------------------------------------- 3. banning an id the app never saw
def test_banning_an_unseen_id_creates_no_account_and_the_app_answers_banned_not_500(stack: LocalStack) -> None:
    stranger = person("Stranger")
    stack.bot_api.register_user(stranger["id"], stranger["first_name"], language_code="en")
    assert admin(stack, f"/ban {stranger['id']}") == "Banned."
    assert user_row(stack, stranger["id"]) is None
    for _ in range(2):
        opened = stack.api("GET", "/api/me", user=stranger)
        assert opened.status == 403 and error_code(opened) == "banned", opened.body
    assert user_row(stack, stranger["id"]) is None
    assert stack.send_text(stranger, "/start").status == 200
    assert stack.bot_api.messages_to(stranger["id"])[-1]["text"] == texts.text("banned", "en")


# ---------------------------------------------------------------------- 4. bounded, resumable erasure
def test_an_inbox_of_10000_messages_is_erased_within_the_functions_timeout_or_finished_by_the_cron(
    stack: LocalStack,
) -> None:
    owner = person("Popular")
    link_code(stack, owner)
    fill_inbox(stack, owner["id"], 10_000)

    started = time.perf_counter()
    erased = stack.api("DELETE", "/api/me", user=owner)
    took = time.perf_counter() - started
    left = inbox_size(stack, owner["id"])
    print(f"\nDELETE /api/me, 10,000 messages: {erased.status} in {took:.2f} s, {left} left; {erased.json()}")
    assert erased.status in (200, 202), erased.body  # answered inside the Timeout (past it: a 500)
    assert took < TIMEOUT_SECONDS
    runs, started = 0, time.perf_counter()
    while user_row(stack, owner["id"]) is not None:
        assert runs < 5, "the cron did not finish the erasure"
        stack.run_cron()
        runs += 1
    print(f"finished by {runs} cron run(s) in {time.perf_counter() - started:.2f} s")
    assert inbox_size(stack, owner["id"]) == 0
    assert [t for t, _ in items_naming(stack, owner["id"])] == []


def test_an_erasure_stopped_midway_leaves_the_account_unusable_and_the_cron_finishes_it(stack: LocalStack) -> None:
    owner, sender = person("Halfway"), person("Writer")
    stack.bot_api.register_user(owner["id"], owner["first_name"], language_code="en")
    code = link_code(stack, owner)
    send(stack, owner, sender, "one real message")
    # The inbox's deletes fail past botocore's retries: DynamoDB failing inside the erasure's first page.
    stack.aws.inject("BatchWriteItem", "InternalServerError", times=10, function="MiniAppApiFunction")
    try:
        stopped = stack.api("DELETE", "/api/me", user=owner)
    finally:
        stack.aws.clear_injected()
    assert stopped.status >= 500

    # Unusable at once: the link is gone, the app and the bot say the data is being erased.
    assert stack.api("GET", f"/api/links/{code}", user=sender).status == 404
    during = stack.api("GET", "/api/me", user=owner)
    assert during.status == 409 and error_code(during) == "erasing"
    assert stack.send_text(owner, "/start").status == 200
    told = stack.bot_api.messages_to(owner["id"])[-1]["text"]
    assert told == texts.text("erasing", "en", minutes=FINISHES_WITHIN_MINUTES)

    summary = stack.run_cron()
    assert summary["erasures_finished"] == 1, summary
    assert user_row(stack, owner["id"]) is None and inbox_size(stack, owner["id"]) == 0
    assert [t for t, _ in items_naming(stack, owner["id"])] == []
    again = stack.api("GET", "/api/me", user=owner)
    assert again.status == 200 and again.json()["link"]["code"] != code  # a new account, from scratch


# ---------------------------------------------------------------------- 5. refunds after erasure (last: moves clock)
def test_refund_of_an_erased_payers_charge_goes_to_the_payer_within_the_refund_window(stack: LocalStack) -> None:
    payer, late_payer = person("Payer"), person("Late")
    for user in (payer, late_payer):
        stack.bot_api.register_user(user["id"], user["first_name"], language_code="en")
    charge = buy(stack, payer, "plus_week")["charge_id"]
    late_charge = buy(stack, late_payer, "plus_week")["charge_id"]
    for user in (payer, late_payer):
        assert stack.api("DELETE", "/api/me", user=user).status == 200

    answer = admin(stack, f"/refund {charge}")
    assert answer.startswith("Refunded 15"), answer
    (call,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=charge)
    assert call.ok and call.params["user_id"] == payer["id"]
    client = stack.dynamodb_client()
    try:
        row = client.get_item(TableName=stack.env["PAYMENTS_TABLE"], Key={"charge_id": {"S": charge}})["Item"]
    finally:
        client.close()
    assert row["status"]["S"] == "refunded" and "user_id" not in row

    # Past the window Murmur no longer knows the payer: it says so, and asks Telegram nothing.
    stack.advance_clock(REFUND_WINDOW_SECONDS + 60)
    late = admin(stack, f"/refund {late_charge}")
    assert late.startswith("Not refunded: the payer erased their account"), late
    assert not stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=late_charge)
