"""The inbox against moto's DynamoDB built from the template."""

from __future__ import annotations

import pytest

from murmur.errors import (
    BannedError,
    BlockedError,
    InvalidInputError,
    NotAcceptingMessagesError,
    NotFoundError,
    RateLimitedError,
)
from murmur.inbox import Inbox
from murmur.models import Person

ALICE = Person(1001, "Alice", "en")
BOB = Person(1002, "Bob", "ru", is_premium=True)


def test_first_sight_creates_user_with_unguessable_unique_link(inbox: Inbox) -> None:
    alice = inbox.ensure_user(ALICE)
    assert len(alice.link_code) == 12 and str(ALICE.id) not in alice.link_code
    assert inbox.ensure_user(ALICE).link_code == alice.link_code
    owner = inbox.link_owner(alice.link_code)
    assert (owner.user_id, owner.first_name) == (ALICE.id, "Alice")


def test_send_then_owner_sees_three_word_preview_locked(inbox: Inbox) -> None:
    code = inbox.ensure_user(ALICE).link_code
    message, owner = inbox.send(BOB, code, "  I have always admired your courage  ")
    assert owner.user_id == ALICE.id
    views, cursor, _ = inbox.page(ALICE.id, None)
    assert cursor is None and len(views) == 1
    v = views[0]
    assert v.preview == "I have always…" and v.text is None and v.locked and v.unread
    assert v.hints == [] and v.hints_left == 3
    assert inbox.counts(inbox.ensure_user(ALICE)).unread == 1
    read = inbox.read(ALICE.id, message.message_id)
    assert read.locked and read.text is None
    assert inbox.counts(inbox.ensure_user(ALICE)).unread == 0


def test_inbox_pages_newest_first_with_cursor(inbox: Inbox, clock, limits) -> None:  # type: ignore[no-untyped-def]
    code = inbox.ensure_user(ALICE).link_code
    for i in range(limits.inbox_page + 3):
        clock.advance(1)
        inbox.send(Person(2000 + i, f"S{i}"), code, f"message number {i}")
    first, cursor, _ = inbox.page(ALICE.id, None)
    assert len(first) == limits.inbox_page and cursor
    second, cursor2, _ = inbox.page(ALICE.id, cursor)
    assert len(second) == 3 and cursor2 is None
    ids = [v.message_id for v in first + second]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001, "bad\x00byte"])
def test_bad_text_is_refused_and_writes_nothing(inbox: Inbox, text: str) -> None:
    code = inbox.ensure_user(ALICE).link_code
    with pytest.raises(InvalidInputError):
        inbox.send(BOB, code, text)
    assert inbox.page(ALICE.id, None)[0] == []


def test_unknown_link_and_not_accepting(inbox: Inbox) -> None:
    code = inbox.ensure_user(ALICE).link_code
    with pytest.raises(NotFoundError):
        inbox.send(BOB, "A" * 12, "hello")
    inbox.set_accepting(ALICE.id, False)
    with pytest.raises(NotAcceptingMessagesError):
        inbox.send(BOB, code, "hello")
    assert inbox.counts(inbox.ensure_user(ALICE)).received == 0


def test_blocked_and_banned_senders_are_refused(inbox: Inbox, repos) -> None:  # type: ignore[no-untyped-def]
    code = inbox.ensure_user(ALICE).link_code
    message, _ = inbox.send(BOB, code, "first")
    assert repos.links.block(code, message.pseudonym)
    with pytest.raises(BlockedError):
        inbox.send(BOB, code, "second")
    carla = Person(1003, "Carla", "es")
    inbox.standings.set_banned(carla.id, True)  # no account: the ban is her record's
    with pytest.raises(BannedError):
        inbox.send(carla, code, "hi")
    assert len(inbox.page(ALICE.id, None)[0]) == 1


def test_sender_rate_limit(inbox: Inbox, limits) -> None:  # type: ignore[no-untyped-def]
    code = inbox.ensure_user(ALICE).link_code
    for i in range(limits.sender_per_window):
        inbox.send(BOB, code, f"m{i}")
    with pytest.raises(RateLimitedError) as err:
        inbox.send(BOB, code, "one too many")
    assert err.value.retry_after > 0
    assert len(inbox.page(ALICE.id, None)[0]) == limits.sender_per_window


def test_referral_is_attributed_once(inbox: Inbox) -> None:
    code = inbox.ensure_user(ALICE).link_code
    inbox.ensure_user(BOB, start_param=f"ref_{code}")
    inbox.ensure_user(BOB, start_param=f"ref_{code}")
    inbox.ensure_user(Person(1005, "Eve"), start_param="_tgr_abcdef")
    assert inbox.ensure_user(ALICE).referrals == 1


def test_replies_are_rate_limited_per_owner(inbox: Inbox, limits) -> None:  # type: ignore[no-untyped-def]
    code = inbox.ensure_user(ALICE).link_code
    message, _ = inbox.send(BOB, code, "write back")
    for i in range(limits.sender_per_window):
        inbox.reply_target(ALICE.id, message.message_id, f"reply {i}")
    with pytest.raises(RateLimitedError) as err:
        inbox.reply_target(ALICE.id, message.message_id, "one too many")
    assert err.value.retry_after > 0


def test_a_single_write_maps_its_failed_condition_and_writes_nothing(repos) -> None:  # type: ignore[no-untyped-def]
    """`Transactions.write_one`: a plain conditional write, with the same error mapping as a transaction."""
    from murmur.errors import ConflictError
    from murmur.store.dynamo import Op

    table = repos.state.table
    put = {"Put": {"TableName": table, "Item": {"pk": {"S": "once"}, "v": {"N": "1"}},
                   "ConditionExpression": "attribute_not_exists(pk)"}}  # fmt: skip
    repos.tx.write_one(Op(put))
    with pytest.raises(ConflictError):
        repos.tx.write_one(Op(put))
    update = {"Update": {"TableName": table, "Key": {"pk": {"S": "once"}}, "UpdateExpression": "SET v = :two",
                         "ConditionExpression": "v = :zero",
                         "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}}}}  # fmt: skip
    with pytest.raises(NotFoundError):
        repos.tx.write_one(Op(update, lambda: NotFoundError("custom")))
    item = repos.state.client.get_item(TableName=table, Key={"pk": {"S": "once"}}, ConsistentRead=True)["Item"]
    assert item["v"] == {"N": "1"}
