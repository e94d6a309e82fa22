"""Abuse controls through the real handlers and DynamoDB (moto's server): rate limits, accept-messages,
blocks by pseudonym, reports to admins with ban / block buttons, bans at every entry point, nicknames."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from murmur.config import Limits, Settings
from murmur.delivery import REPORT_DIGEST_INTERVAL_SECONDS
from murmur.errors import DailyCapReachedError
from murmur.inbox import Inbox
from murmur.models import Person
from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE, BOB, CARLA, DMITRI
from tests.functional.helpers import services_as

_ids = itertools.count(60_001)


def stranger(name: str = "Stranger") -> dict[str, Any]:
    """A Telegram user no other test uses, so rate windows and bans do not leak between tests."""
    return {"id": next(_ids), "is_bot": False, "first_name": name, "language_code": "en"}


def link_of(stack: LocalStack, user: Any) -> str:
    me = stack.api("GET", "/api/me", user=user)
    assert me.status == 200, me.body
    return str(me.json()["link"]["code"])


def send(stack: LocalStack, sender: Any, code: str, text: str = "hello there friend", **extra: Any) -> Any:
    return stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": text, **extra})


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# ---------------------------------------------------------------------- rate limits, atomically
@pytest.fixture
def api_inbox(stack: LocalStack) -> Iterator[Inbox]:
    """The domain's Inbox as the Mini App API's role runs it (IAM, DynamoDB's transaction conflicts)."""
    settings = dataclasses.replace(Settings.from_env(stack.env), limits=Limits(sender_per_window=1000))
    services = services_as(stack, "MiniAppApiFunction", settings)
    yield services.inbox
    services.client.close()


def test_100_parallel_senders_to_an_owner_with_a_daily_cap_of_20_exactly_20_pass(
    stack: LocalStack, api_inbox: Inbox
) -> None:
    """The owner's daily cap is split over the tally shards; sixteen senders at a time race for them and the
    cap holds exactly, each refusal saying why (the inbox is full for today), with no 5xx."""
    owner = api_inbox.ensure_user(Person(next(_ids), "Popular", "en"))
    api_inbox.set_limits(owner, None, 20)
    senders = [Person(next(_ids), f"Fan{i}", "en") for i in range(100)]

    def attempt(sender: Person) -> str:
        try:
            api_inbox.send(sender, owner.link_code, "parallel hello")
            return "sent"
        except DailyCapReachedError as exc:
            assert exc.retry_after >= 1
            return "capped"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, senders))

    assert outcomes.count("sent") == 20
    assert outcomes.count("capped") == 80
    counts = api_inbox.counts(owner)
    assert (counts.received, counts.unread, counts.today) == (20, 20, 20)
    stored, _ = api_inbox.repos.messages.page(owner.user_id, 100, None)
    assert len(stored) == 20


def test_over_the_sender_limit_the_api_answers_429_with_retry_after(stack: LocalStack) -> None:
    code = link_of(stack, stranger("Target"))
    sender = stranger("Chatty")
    limit = Limits().sender_per_window
    for i in range(limit):
        assert send(stack, sender, code, f"message number {i}").status == 201
    refused = send(stack, sender, code, "one too many")
    assert refused.status == 429, refused.body
    assert error_code(refused) == "rate_limited"
    retry_after = refused.header("Retry-After")
    assert retry_after is not None and 1 <= int(retry_after) <= Limits().window_seconds
    # A new window lets them write again.
    stack.advance_clock(int(retry_after))
    assert send(stack, sender, code, "a new hour").status == 201


# ---------------------------------------------------------------------- accept-messages
def test_an_inbox_that_does_not_accept_messages_refuses_with_403(stack: LocalStack) -> None:
    owner = stranger("Closed")
    code = link_of(stack, owner)
    closed = stack.api("PATCH", "/api/me", user=owner, json={"accepts_messages": False})
    assert closed.json()["accepts_messages"] is False
    assert stack.api("GET", f"/api/links/{code}", user=BOB).json()["accepts_messages"] is False
    refused = send(stack, BOB, code)
    assert refused.status == 403 and error_code(refused) == "not_accepting"
    assert stack.api("GET", "/api/inbox", user=owner).json()["messages"] == []
    stack.api("PATCH", "/api/me", user=owner, json={"accepts_messages": True})
    assert send(stack, BOB, code).status == 201


# ---------------------------------------------------------------------- blocks
def test_blocking_from_a_message_refuses_that_sender_only(stack: LocalStack) -> None:
    owner, pest, friend = stranger("Owner"), stranger("Pest"), stranger("Friend")
    code = link_of(stack, owner)
    message_id = send(stack, pest, code, "you again").json()["message_id"]
    blocked = stack.api("POST", f"/api/messages/{message_id}/block", user=owner)
    assert blocked.status == 200 and blocked.json() == {"ok": True}

    again = send(stack, pest, code, "let me in")
    assert again.status == 403 and error_code(again) == "blocked"
    assert send(stack, friend, code, "hi from a friend").status == 201
    # The block is per recipient: the pest can still write to someone else.
    assert send(stack, pest, link_of(stack, stranger("Elsewhere")), "hello elsewhere").status == 201
    texts = [m["preview"] for m in stack.api("GET", "/api/inbox", user=owner).json()["messages"]]
    assert len(texts) == 2 and not any("let" in t for t in texts)


# ---------------------------------------------------------------------- reports, admin buttons, bans
def admin_report_message(stack: LocalStack) -> dict[str, Any]:
    """The admin's next report digest: the cron writes it (at most one per admin per interval, so the clock
    moves past the last one's first)."""
    stack.advance_clock(REPORT_DIGEST_INTERVAL_SECONDS)
    stack.run_cron()
    reports = [m for m in stack.bot_api.messages_to(ALICE) if m.get("reply_markup")]
    assert reports, "the admin got no report"
    return reports[-1]


def buttons_of(message: dict[str, Any], message_id: str = "") -> dict[str, str]:
    """The digest's buttons (text -> callback data), of one reported message when `message_id` is given."""
    rows = message["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row if b["callback_data"].endswith(message_id)}


def test_report_reaches_admins_and_ban_refuses_send_reply_and_buy(stack: LocalStack) -> None:
    owner, troll = stranger("Victim"), stranger("Troll")
    code = link_of(stack, owner)
    troll_code = link_of(stack, troll)
    message_id = send(stack, troll, code, "something nasty and long").json()["message_id"]
    # The troll also has an inbox with a message in it (to try replying and buying later).
    own_message = send(stack, DMITRI, troll_code, "a message to the troll").json()["message_id"]

    reported = stack.api("POST", f"/api/messages/{message_id}/report", user=owner, json={"reason": "abuse"})
    assert reported.status == 202, reported.body
    report = admin_report_message(stack)
    assert "something nasty and long" in report["text"]
    actions = buttons_of(report, message_id)
    ban_data = next(data for data in actions.values() if data.startswith("ban:"))
    assert any(data.startswith("blk:") for data in actions.values())
    # The sender stays hidden, even from admins (as a number of its own: message ids are digits too).
    assert not re.search(rf"(?<![0-9]){troll['id']}(?![0-9])", str(report))

    # Reporting the same message again does not spam the admins.
    before = len(stack.bot_api.calls("sendMessage", chat_id=ALICE))
    assert stack.api("POST", f"/api/messages/{message_id}/report", user=owner, json={}).status == 202
    assert len(stack.bot_api.calls("sendMessage", chat_id=ALICE)) == before

    # A non-admin pressing the button changes nothing.
    stack.press_button(BOB, report, ban_data)
    assert send(stack, troll, code, "still here").status == 201

    stack.press_button(ALICE, report, ban_data)
    answers = [c.params for c in stack.bot_api.calls("answerCallbackQuery")]
    assert answers and "banned" in str(answers[-1].get("text", "")).lower()

    refused = send(stack, troll, link_of(stack, CARLA), "hello Carla")
    assert refused.status == 403 and error_code(refused) == "banned"
    reply = stack.api("POST", f"/api/messages/{own_message}/reply", user=troll, json={"text": "go away"})
    assert reply.status == 403 and error_code(reply) == "banned"
    buy = stack.api("POST", "/api/orders", user=troll, json={"product": "plus_week"})
    assert buy.status == 403 and error_code(buy) == "banned"
    gift = send(stack, troll, code, "with a gift", gift="heart")
    assert gift.status == 403


def test_admin_block_button_blocks_the_sender_for_that_recipient(stack: LocalStack) -> None:
    owner, pest = stranger("Quiet"), stranger("Noisy")
    code = link_of(stack, owner)
    message_id = send(stack, pest, code, "first noisy message").json()["message_id"]
    assert stack.api("POST", f"/api/messages/{message_id}/report", user=owner, json={"reason": "spam"}).status == 202
    report = admin_report_message(stack)
    block_data = next(data for data in buttons_of(report, message_id).values() if data.startswith("blk:"))
    stack.press_button(ALICE, report, block_data)
    refused = send(stack, pest, code, "second noisy message")
    assert refused.status == 403 and error_code(refused) == "blocked"


# ---------------------------------------------------------------------- stable nicknames
def nicknames(stack: LocalStack, owner: Any) -> list[str | None]:
    return [m["nickname"] for m in stack.api("GET", "/api/inbox", user=owner).json()["messages"]]


def test_nickname_is_stable_per_recipient_different_across_recipients_and_optional(stack: LocalStack) -> None:
    first, second = stranger("First"), stranger("Second")
    sender, other_sender = stranger("Regular"), stranger("Other")
    first_code, second_code = link_of(stack, first), link_of(stack, second)

    send(stack, sender, first_code, "monday hello", show_nickname=True)
    stack.advance_clock(86400)
    send(stack, sender, first_code, "tuesday hello", show_nickname=True)
    send(stack, sender, first_code, "anonymous this time")
    send(stack, other_sender, first_code, "someone else", show_nickname=True)
    send(stack, sender, second_code, "to the second inbox", show_nickname=True)

    newest_first = nicknames(stack, first)
    other, anonymous, tuesday, monday = newest_first
    assert monday is not None and monday == tuesday  # the same person as yesterday
    assert anonymous is None  # not chosen: absent
    assert other is not None and other != monday
    (elsewhere,) = nicknames(stack, second)
    assert elsewhere is not None and elsewhere != monday  # unlinkable across inboxes
    for nickname in (monday, other, elsewhere):
        assert "Regular" not in nickname and "Other" not in nickname and str(sender["id"]) not in nickname


def test_carla_can_still_write_after_all_this(stack: LocalStack) -> None:
    """Limits are per person: the other tests' rate windows and bans did not touch a bystander."""
    assert send(stack, CARLA, link_of(stack, stranger("Bystander")), "hola").status == 201
