"""Invite to unlock (issue 14, ADR 0012): a friend the owner invited who is new to Murmur earns the owner a free
unlock; an erased account coming back, the owner themself, or invitations past the limits earn nothing; a credit is
spent exactly once. Through the strict stack: the bot's /start and the Mini App's API, IAM, real transaction
conflicts, the clock moved by the stack."""

from __future__ import annotations

import re
import threading
from typing import Any

from murmur.invite_credits import CREDIT_SECONDS, MAX_HELD, MAX_PER_WEEK, WEEK_SECONDS
from sandbox.local_stack import ApiResponse, LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import link_code, person, read, send

LONG = "this message is long enough that its preview does not show it all, so it is locked"


def me(stack: LocalStack, user: dict[str, Any] | int) -> dict[str, Any]:
    got = stack.api("GET", "/api/me", user=user)
    assert got.status == 200, got.body
    return dict(got.json())


def credits(stack: LocalStack, user: dict[str, Any]) -> int:
    return int(me(stack, user)["invite_credits"])


def join_through_invite(stack: LocalStack, invitee: dict[str, Any], inviter_code: str) -> None:
    """The invitee taps the owner's invite link: the bot's /start ref_<code>."""
    assert stack.send_text(invitee, f"/start ref_{inviter_code}").status == 200


def stats(stack: LocalStack) -> dict[str, int]:
    """The admin's /stats, as the bot says it: the invite credits' line."""
    assert stack.send_text(ALICE, "/stats").status == 200
    said = stack.bot_api.messages_to(ALICE)[-1]["text"]
    found = re.search(r"Invite credits: (\d+) earned, (\d+) spent on unlocks, (\d+) referrals past the limits", said)
    assert found, said
    return dict(zip(("earned", "spent", "refused"), map(int, found.groups()), strict=True))


def start_of_a_week(stack: LocalStack) -> None:
    """Move the clock to an hour into the next week, so a test's sign-ups all fall in one week."""
    stack.advance_clock(WEEK_SECONDS - int(stack.now()) % WEEK_SECONDS + 3600)


def unlock_with_credit(stack: LocalStack, owner: dict[str, Any], message_id: str) -> ApiResponse:
    return stack.api("POST", f"/api/messages/{message_id}/unlock-with-credit", user=owner)


def calls_of(stack: LocalStack, function: str) -> dict[str, int]:
    return {op: count for (name, op), count in stack.aws.operations().items() if name == function}


def calls_since(stack: LocalStack, function: str, before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in calls_of(stack, function).items() if n != before.get(op, 0)}


def test_a_new_friend_who_joins_through_the_invite_earns_the_inviter_one_credit(stack: LocalStack) -> None:
    inviter = person("Inviter")
    code = link_code(stack, inviter)
    before = stats(stack)

    # Through the bot, and through the Mini App opened with the invite as its start parameter
    join_through_invite(stack, person("FriendInBot"), code)
    calls = calls_of(stack, "MiniAppApiFunction")
    assert stack.api("GET", "/api/me", user=person("FriendInApp"), start_param=f"ref_{code}").status == 200
    # The sign-up's reads (person record, the invite's link, the inviter's credits) and one transaction; the
    # profile's counts (one BatchGetItem of the tally shards) come after
    assert calls_since(stack, "MiniAppApiFunction", calls) == {"GetItem": 4, "TransactWriteItems": 1, "BatchGetItem": 1}

    profile = me(stack, inviter)
    assert (profile["invite_credits"], profile["referrals"]) == (2, 2)
    after = stats(stack)
    assert after["earned"] - before["earned"] == 2 and after["refused"] == before["refused"]


def test_an_erased_account_coming_back_through_an_invite_earns_nothing(stack: LocalStack) -> None:
    inviter, other_inviter = person("Inviter"), person("OtherInviter")
    code, other_code = link_code(stack, inviter), link_code(stack, other_inviter)

    # Someone who had an account of their own (not invited), erased it, and comes back through an invite
    returning = person("Returning")
    assert me(stack, returning)["invite_credits"] == 0
    assert stack.api("DELETE", "/api/me", user=returning).json()["erased"] is True
    join_through_invite(stack, returning, code)
    assert credits(stack, inviter) == 0

    # Someone invited (a credit), erased, and back through another owner's invite: no second credit, anywhere
    invited = person("Invited")
    join_through_invite(stack, invited, code)
    assert credits(stack, inviter) == 1
    assert stack.api("DELETE", "/api/me", user=invited).json()["erased"] is True
    join_through_invite(stack, invited, other_code)
    join_through_invite(stack, invited, code)
    assert credits(stack, inviter) == 1 and credits(stack, other_inviter) == 0


def test_opening_ones_own_invite_link_earns_nothing(stack: LocalStack) -> None:
    owner = person("Owner")
    code = link_code(stack, owner)
    join_through_invite(stack, owner, code)
    assert stack.api("GET", "/api/me", user=owner, start_param=f"ref_{code}").status == 200
    profile = me(stack, owner)
    assert (profile["invite_credits"], profile["referrals"]) == (0, 0)


def test_credits_are_limited_per_week_and_held_and_each_lapses(stack: LocalStack) -> None:
    inviter = person("Farmer")
    code = link_code(stack, inviter)
    start_of_a_week(stack)
    before = stats(stack)

    # A week: MAX_PER_WEEK credits, however many join; the rest still count as referrals
    for i in range(MAX_PER_WEEK + 2):
        join_through_invite(stack, person(f"Week1Friend{i}"), code)
    profile = me(stack, inviter)
    assert (profile["invite_credits"], profile["referrals"]) == (MAX_PER_WEEK, MAX_PER_WEEK + 2)

    # The next week earns again, up to MAX_HELD held at once
    stack.advance_clock(WEEK_SECONDS)
    for i in range(MAX_PER_WEEK):
        join_through_invite(stack, person(f"Week2Friend{i}"), code)
    assert credits(stack, inviter) == MAX_HELD
    after = stats(stack)
    assert after["earned"] - before["earned"] == MAX_HELD
    assert after["refused"] - before["refused"] == 2 + (2 * MAX_PER_WEEK - MAX_HELD)

    # Each credit lapses CREDIT_SECONDS after it was earned: the first week's go first
    stack.advance_clock(CREDIT_SECONDS - WEEK_SECONDS + 60)
    assert credits(stack, inviter) == MAX_HELD - MAX_PER_WEEK
    stack.advance_clock(WEEK_SECONDS)
    assert credits(stack, inviter) == 0


def test_a_credit_unlocks_a_message_and_two_taps_at_once_unlock_it_once_and_spend_one(stack: LocalStack) -> None:
    # Given an owner holding two credits and a locked message
    owner = person("Owner")
    code = link_code(stack, owner)
    start_of_a_week(stack)
    for i in range(2):
        join_through_invite(stack, person(f"Friend{i}"), code)
    assert credits(stack, owner) == 2
    message_id = send(stack, owner, person("Sender"), LONG)["message_id"]
    assert read(stack, owner, message_id)["locked"] is True
    before = stats(stack)

    # When the owner taps "Unlock with an invite credit" on two devices at the same moment
    barrier = threading.Barrier(4)
    answers: list[ApiResponse] = []

    def tap() -> None:
        barrier.wait()
        answers.append(unlock_with_credit(stack, owner, message_id))

    taps = [threading.Thread(target=tap) for _ in range(4)]
    for thread in taps:
        thread.start()
    for thread in taps:
        thread.join()

    # Then one tap unlocked it, the others were told it is readable already, and one credit was spent
    assert sorted(a.status for a in answers) == [200, 409, 409, 409], [a.body for a in answers]
    won = next(a for a in answers if a.status == 200).json()
    assert won["message"]["text"] == LONG and won["message"]["locked"] is False and won["invite_credits"] == 1
    assert {a.json()["error"]["code"] for a in answers if a.status == 409} == {"already_readable"}
    assert read(stack, owner, message_id)["text"] == LONG
    assert credits(stack, owner) == 1
    assert stats(stack)["spent"] - before["spent"] == 1


def test_an_unlock_with_a_credit_is_one_read_and_one_transaction(stack: LocalStack) -> None:
    owner = person("Owner")
    code = link_code(stack, owner)
    start_of_a_week(stack)
    join_through_invite(stack, person("Friend"), code)
    message_id = send(stack, owner, person("Sender"), LONG)["message_id"]
    calls = calls_of(stack, "MiniAppApiFunction")
    assert unlock_with_credit(stack, owner, message_id).status == 200
    assert calls_since(stack, "MiniAppApiFunction", calls) == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_without_a_credit_or_with_nothing_to_unlock_nothing_is_spent(stack: LocalStack) -> None:
    owner = person("Owner")
    code = link_code(stack, owner)
    locked = send(stack, owner, person("Sender"), LONG)["message_id"]
    short = send(stack, owner, person("Sender"), "hi there")["message_id"]

    none_held = unlock_with_credit(stack, owner, locked)
    assert none_held.status == 409 and none_held.json()["error"]["code"] == "no_invite_credit"
    assert read(stack, owner, locked)["locked"] is True

    join_through_invite(stack, person("Friend"), code)
    readable = unlock_with_credit(stack, owner, short)
    assert readable.status == 409 and readable.json()["error"]["code"] == "already_readable"
    assert unlock_with_credit(stack, person("Stranger"), locked).status == 404  # someone else's message
    assert credits(stack, owner) == 1
