"""Telegram's bot-wide limit (about 30 messages a second) with many chats at once (issue 13): many owners
announced by one cron tick, and one owner replying to many senders at once. The fake Bot API enforces the
limit on a real monotonic clock; nothing may be lost or sent twice, and the cron's own sending stays under it."""

from __future__ import annotations

import threading
from typing import Any

from sandbox.local_stack import LocalStack
from tests.functional.helpers import person, send

OWNERS = 40  # more than a second's worth of Telegram's bot-wide limit


def _texts_to(stack: LocalStack, chat_id: int, needle: str) -> list[str]:
    return [m["text"] for m in stack.bot_api.messages_to(chat_id) if needle.lower() in str(m.get("text", "")).lower()]


def test_many_owners_announced_by_one_tick_stay_under_telegrams_limit(stack: LocalStack) -> None:
    owners = [person(f"Owner{i}") for i in range(OWNERS)]
    for owner in owners:
        send(stack, owner, person(), "a message for each of many owners at once")
    stack.bot_api.clear()
    stack.run_cron()
    # Paced to 25 a second by the cron itself: Telegram never had to refuse one.
    assert stack.bot_api.throttled() == []
    for owner in owners:
        assert len(_texts_to(stack, owner["id"], "new anonymous message")) == 1
    stack.run_cron()  # nothing is announced twice
    assert all(len(_texts_to(stack, o["id"], "new anonymous message")) == 1 for o in owners)


def test_owners_replying_to_many_senders_at_once_lose_nothing_and_send_nothing_twice(stack: LocalStack) -> None:
    """Ten owners answer four senders each, all at once (each owner's reply window allows 20 an hour); Telegram
    refuses ten of the replies with a flood wait, as its bot-wide limit does. Every owner hears 202 and every
    sender gets their one reply: now, or from the outbox once the wait is over."""
    owners = [person(f"Generous{i}") for i in range(10)]
    pairs: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    for owner in owners:
        for i in range(4):
            sender = person(f"Fan{i}")
            pairs.append(
                (owner, sender, send(stack, owner, sender, f"please answer me, I am fan number {i}")["message_id"])
            )
    stack.bot_api.clear()
    stack.bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", times=10, retry_after=3)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def reply(batch: list[tuple[dict[str, Any], dict[str, Any], str]]) -> None:
        barrier.wait()
        for owner, _sender, mid in batch:
            answer = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "thank you, friend"})
            statuses.append(answer.status)

    threads = [threading.Thread(target=reply, args=(pairs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert statuses == [202] * len(pairs)  # sent now or owed: the owner's action succeeded either way
    refused_now = {c.params.get("chat_id") for c in stack.bot_api.throttled()}
    assert len(refused_now) == 10
    for _ in range(5):  # the cron delivers what was owed, once its retry_after has passed
        if all(_texts_to(stack, sender["id"], "thank you, friend") for _, sender, _ in pairs):
            break
        stack.advance_clock(60)
        stack.run_cron()
    for _, sender, _ in pairs:
        assert len(_texts_to(stack, sender["id"], "thank you, friend")) == 1, sender["id"]
