"""The owner sees what they answered (issue 16): each reply still reaches the anonymous sender through the bot,
and the message keeps the owner's latest replies (5, up to 1000 characters each) for the owner's eyes only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sandbox.local_stack import LocalStack
from tests.functional.helpers import person, read, send


def _reply(stack: LocalStack, owner: dict[str, Any], message_id: str, text: str) -> int:
    return stack.api("POST", f"/api/messages/{message_id}/reply", user=owner, json={"text": text}).status


def test_the_owner_sees_their_replies_under_the_message_and_the_sender_still_gets_each(stack: LocalStack) -> None:
    owner, sender = person("Olga"), person("Sergei")
    mid = send(stack, owner, sender, "will you answer me")["message_id"]
    assert read(stack, owner, mid)["replies"] == []

    assert _reply(stack, owner, mid, "Of course!") == 202
    assert _reply(stack, owner, mid, "And again.") == 202

    replies = read(stack, owner, mid)["replies"]
    assert [r["text"] for r in replies] == ["Of course!", "And again."]
    assert all(abs(r["sent_at"] - stack.now()) < 60 for r in replies)
    (listed,) = [m for m in stack.api("GET", "/api/inbox", user=owner).json()["messages"] if m["id"] == mid]
    assert [r["text"] for r in listed["replies"]] == ["Of course!", "And again."]
    to_sender = [m["text"] for m in stack.bot_api.messages_to(sender["id"])]
    assert any("Of course!" in t for t in to_sender) and any("And again." in t for t in to_sender)


def test_the_latest_five_replies_are_kept_whole_even_when_two_land_at_once(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "tell me everything")["message_id"]
    long = "x" * 999 + "!"
    for number in range(4):
        assert _reply(stack, owner, mid, f"{number}: {long}"[:1000]) == 202
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda text: _reply(stack, owner, mid, text), ["at once A", "at once B"]))
    assert statuses == [202, 202]

    texts = [r["text"] for r in read(stack, owner, mid)["replies"]]
    assert len(texts) == 5
    assert texts[:3] == [f"{number}: {long}"[:1000] for number in (1, 2, 3)]
    assert sorted(texts[3:]) == ["at once A", "at once B"]


def test_a_reply_that_cannot_reach_the_sender_is_not_kept(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "then I blocked the bot")["message_id"]
    stack.bot_api.blocked_by(sender["id"])
    assert _reply(stack, owner, mid, "hello?") == 409
    assert read(stack, owner, mid)["replies"] == []
