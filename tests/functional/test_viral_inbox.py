"""A link shared to a big audience (issue 13, ADR 0007): many senders at once to one owner on the strict stack
(concurrent containers, DynamoDB's transaction conflicts, Telegram's flood control). Every message is stored
once with no 5xx and counted exactly; the owner hears of them in coalesced, paced notices from the cron, never
on a sender's request; Telegram's retry_after is honoured and nothing the owner is owed is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person, read, send

FLOOD_SENDERS = 96
CONTAINERS = 8


def _owner_notices(stack: LocalStack, owner: dict[str, Any]) -> list[str]:
    return [m["text"] for m in stack.bot_api.messages_to(owner["id"])]


def _messages_stored(stack: LocalStack, owner: dict[str, Any]) -> list[str]:
    """Every message id in the owner's partition, as the operator reads the table."""
    client = stack.dynamodb_client()
    ids: list[str] = []
    request: dict[str, Any] = {
        "TableName": stack.env["MESSAGES_TABLE"],
        "KeyConditionExpression": "recipient_id = :r",
        "ExpressionAttributeValues": {":r": {"N": str(owner["id"])}},
    }
    while True:
        page = client.query(**request)
        ids += [item["message_id"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return ids
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _user_item(stack: LocalStack, owner: dict[str, Any]) -> dict[str, Any]:
    return dict(
        stack.dynamodb_client().get_item(
            TableName=stack.env["USERS_TABLE"], Key={"user_id": {"N": str(owner["id"])}}, ConsistentRead=True
        )["Item"]
    )


@pytest.fixture(scope="module")
def flood_stack() -> Iterator[LocalStack]:
    with LocalStack(max_containers=CONTAINERS) as stack:
        yield stack


def test_a_flood_from_many_senders_at_once_is_stored_exactly_with_no_5xx_and_announced_once(
    flood_stack: LocalStack,
) -> None:
    stack = flood_stack
    owner = person("Popular")
    code = link_code(stack, owner)
    senders = [person(f"Fan{i}") for i in range(FLOOD_SENDERS)]
    barrier = threading.Barrier(CONTAINERS)
    statuses: list[int] = []

    def write(batch: list[dict[str, Any]]) -> None:
        barrier.wait()
        for sender in batch:
            body = {"text": f"hello from fan {sender['id']} in the crowd"}
            statuses.append(stack.api("POST", f"/api/links/{code}/messages", user=sender, json=body).status)

    threads = [threading.Thread(target=write, args=(senders[i::CONTAINERS],)) for i in range(CONTAINERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    # Every send answered 201: no 5xx, and no 429 to senders within their own limits.
    assert statuses == [201] * FLOOD_SENDERS
    assert stack.functions["MiniAppApiFunction"].container.cold_starts >= 2  # really concurrent containers
    stored = _messages_stored(stack, owner)
    assert len(stored) == len(set(stored)) == FLOOD_SENDERS
    me = stack.api("GET", "/api/me", user=owner).json()
    assert (me["received"], me["unread"], me["today"]) == (FLOOD_SENDERS,) * 3
    # No send wrote the owner's user item (its old counters stay untouched): the checks only read it.
    item = _user_item(stack, owner)
    assert item["received"] == {"N": "0"} and item["unread"] == {"N": "0"}
    # The senders never waited for Telegram: nothing went to the owner on their requests.
    assert stack.bot_api.calls("sendMessage", chat_id=owner["id"]) == []

    stack.run_cron()
    (notice,) = _owner_notices(stack, owner)
    assert f"{FLOOD_SENDERS} new anonymous messages" in notice
    assert stack.bot_api.throttled(owner["id"]) == []


def test_announcements_are_coalesced_paced_and_followed_up_with_the_exact_count(stack: LocalStack) -> None:
    owner = person("Olwen")
    for i in range(5):
        send(stack, owner, person(), f"first wave number {i}")
    assert stack.bot_api.calls("sendMessage", chat_id=owner["id"]) == []

    stack.run_cron()
    assert _owner_notices(stack, owner)[-1].startswith("💌 5 new anonymous messages. The newest: “first wave number")

    last = ""
    for i in range(3):
        last = send(stack, owner, person(), f"second wave number {i}")["message_id"]
    stack.run_cron()  # within the interval after the last notice: nothing new yet
    assert len(_owner_notices(stack, owner)) == 1

    stack.advance_clock(31)
    stack.run_cron()
    notices = _owner_notices(stack, owner)
    assert len(notices) == 2 and "8 new anonymous messages" in notices[-1] and "second wave" in notices[-1]
    assert notices[-1] != notices[0]

    # Read everything before the next run: there is nothing left to say, so nothing is said.
    for message in stack.api("GET", "/api/inbox", user=owner).json()["messages"]:
        read(stack, owner, message["id"])
    assert stack.api("GET", "/api/me", user=owner).json()["unread"] == 0
    stack.advance_clock(31)
    stack.run_cron()
    assert len(_owner_notices(stack, owner)) == 2

    # One more message after that: a single one reads as before, with its own preview and button.
    send(stack, owner, person(), "just one more thing")
    stack.advance_clock(31)
    stack.run_cron()
    assert _owner_notices(stack, owner)[-1] == "💌 New anonymous message: “just one more…”"
    assert last  # the follow-up above covered the last of the second wave


def test_a_throttled_announcement_waits_for_retry_after_and_loses_nothing(stack: LocalStack) -> None:
    owner = person("Busy")
    for i in range(3):
        send(stack, owner, person(), f"before the throttle {i}")
    stack.bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    stack.run_cron()
    assert len(stack.bot_api.throttled(owner["id"])) == 1
    assert _owner_notices(stack, owner) == []

    for i in range(2):
        send(stack, owner, person(), f"during the wait {i}")
    stack.advance_clock(2)
    stack.run_cron()  # retry_after not over yet: not tried again
    assert len(stack.bot_api.calls("sendMessage", chat_id=owner["id"])) == 1

    stack.advance_clock(4)
    stack.run_cron()
    (notice,) = _owner_notices(stack, owner)
    assert "5 new anonymous messages" in notice and "during the wait" in notice


def test_a_message_stored_while_its_announcement_is_being_sent_is_announced_after_it(stack: LocalStack) -> None:
    """The cron has composed the notice (four messages) and is sending it when a fifth arrives: that run must
    not take the announcement out of the outbox, or the fifth would never be announced."""
    from murmur.delivery import Delivery, NoticeDelivery, Pacer
    from murmur.store.outbox import OutboxRepository
    from murmur.telegram.gateway import HttpGateway
    from tests.functional.helpers import operator_services

    owner = person("Racy")
    for i in range(4):
        send(stack, owner, person(), f"before the race {i}")

    class StackClock:
        def now(self) -> float:
            return stack.now()

    class SendDuringDelivery(HttpGateway):
        def send_message(self, chat_id: int, text: str, buttons: Any = None) -> bool:
            send(stack, owner, person(), "arrived mid-delivery")
            return super().send_message(chat_id, text, buttons)

    services = operator_services(stack)
    gateway = SendDuringDelivery(stack.bot_token, stack.bot_api.base_url)
    try:
        delivery = NoticeDelivery(
            gateway,
            OutboxRepository(services.client, stack.env["STATE_TABLE"]),
            StackClock(),
            compose=services._compose_announcement,
        )
        assert delivery.deliver_due(Pacer())[Delivery.SENT] >= 1
    finally:
        gateway.close()
    assert "4 new anonymous messages" in _owner_notices(stack, owner)[-1]

    stack.run_cron()  # the follow-up waits out the interval...
    assert len(_owner_notices(stack, owner)) == 1
    stack.advance_clock(31)
    stack.run_cron()  # ...and then counts the fifth
    notices = _owner_notices(stack, owner)
    assert len(notices) == 2 and "5 new anonymous messages" in notices[-1] and "arrived mid" in notices[-1]
