"""A notice the user is owed is never lost: what Telegram refuses with 429 (or a 5xx) is kept in the outbox and
delivered by a later cron run, after its retry_after, exactly once; what it refuses for good (the user blocked
the bot) is not tried again; the outbox never names a sender."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from sandbox.local_stack import LocalStack
from tests.functional.helpers import buy, link_code, payment_rows, person, send

DAY = 86400
RETRY_AFTER = 3
OUTBOX_FIELDS = {"pk", "outbox_shard", "due_at", "chat_id", "text", "buttons", "attempts", "ttl"}


def _throttle_next_send(stack: LocalStack, retry_after: int = RETRY_AFTER) -> None:
    stack.bot_api.fail_next(
        "sendMessage", 429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
    )


def _texts(stack: LocalStack, chat_id: int, marker: str) -> list[str]:
    return [m["text"] for m in stack.bot_api.messages_to(chat_id) if marker in m.get("text", "")]


def _outbox(stack: LocalStack, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Owed notices as stored (a Scan: the test looks at the whole table, the application never does)."""
    client = stack.dynamodb_client()
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": stack.env["STATE_TABLE"]}
    while True:
        page = client.scan(**request)
        items += [i for i in page["Items"] if i["pk"]["S"].startswith("outbox#")]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [i for i in items if chat_id is None or i.get("chat_id", {}).get("N") == str(chat_id)]


def _pending(stack: LocalStack, chat_id: int) -> list[dict[str, Any]]:
    """Owed notices to `chat_id` still in the due index (the index only holds pending ones)."""
    return [i for i in _outbox(stack, chat_id) if "due_at" in i]


def _later_runs_until_quiet(stack: LocalStack) -> None:
    for wait in (RETRY_AFTER + 1, 3600, DAY):
        stack.advance_clock(wait)
        stack.run_cron()


# ---------------------------------------------------------------------------------- (a) the cron's own notices
def test_a_throttled_renewal_notice_waits_for_its_retry_after_and_the_rest_of_the_run_goes_on(
    stack: LocalStack,
) -> None:
    owners = [person() for _ in range(3)]
    for owner in owners:
        buy(stack, owner, "plus_week")
    # A payment whose successful_payment never arrived: the same run must still repair it.
    payer, sender = person(), person()
    mid = send(stack, payer, sender, "paid but never delivered")["message_id"]
    created = stack.api("POST", "/api/orders", user=payer, json={"product": "unlock", "message_id": mid}).json()
    lost = stack.pay_invoice(payer, created["invoice_link"], deliver=False)
    assert not payment_rows(stack, lost["charge_id"])

    stack.advance_clock(6 * DAY + 60)  # every pass is inside its last day: one reminder each
    stack.bot_api.clear()
    _throttle_next_send(stack)
    before = int(stack.now())
    first = stack.run_cron()

    throttled = stack.bot_api.throttled()
    assert len(throttled) == 1
    late = int(throttled[0].params["chat_id"])
    assert late in {o["id"] for o in owners}
    assert first["reminded"] == 3 and first["notices_sent"] == 2 and first["notices_owed"] == 1
    for owner in owners:
        expected = 0 if owner["id"] == late else 1
        assert len(_texts(stack, owner["id"], "ends in less than a day")) == expected
    assert first["payments_repaired"] == 1 and len(payment_rows(stack, lost["charge_id"])) == 1
    (owed,) = _pending(stack, late)
    assert before + RETRY_AFTER <= int(owed["due_at"]["N"]) <= int(stack.now()) + RETRY_AFTER

    stack.advance_clock(RETRY_AFTER + 1)
    second = stack.run_cron()
    assert second["outbox_sent"] == 1
    assert len(_texts(stack, late, "ends in less than a day")) == 1
    assert not _pending(stack, late)

    stack.advance_clock(600)
    assert stack.run_cron()["outbox_sent"] == 0
    assert len(_texts(stack, late, "ends in less than a day")) == 1  # exactly once


# ---------------------------------------------------------------------------------- (b) a request path
def test_b_a_reply_that_hits_flood_control_is_answered_202_and_delivered_later_exactly_once(
    stack: LocalStack,
) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "will you answer me?")["message_id"]
    _throttle_next_send(stack)
    replied = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "thanks, stranger"})
    assert replied.status == 202, replied.body
    assert len(stack.bot_api.throttled(sender["id"])) == 1
    assert not _texts(stack, sender["id"], "thanks, stranger")
    assert len(_pending(stack, sender["id"])) == 1

    stack.advance_clock(RETRY_AFTER + 1)
    stack.run_cron()
    assert len(_texts(stack, sender["id"], "thanks, stranger")) == 1
    _later_runs_until_quiet(stack)
    assert len(_texts(stack, sender["id"], "thanks, stranger")) == 1
    assert not _pending(stack, sender["id"])


def test_a_short_flood_wait_in_the_webhook_is_waited_out_and_the_answer_sent_now(stack: LocalStack) -> None:
    """Someone who just typed /start is waiting for the answer: a wait of a second or two is honoured in the
    invocation (retry_after, then the same message once more), not left to the cron."""
    newcomer = person()
    _throttle_next_send(stack, retry_after=1)
    assert stack.send_text(newcomer, "/start").status == 200
    assert len(stack.bot_api.throttled(newcomer["id"])) == 1
    assert len(stack.bot_api.messages_to(newcomer["id"])) == 1
    assert not _outbox(stack, newcomer["id"])


def test_a_welcome_the_webhook_could_not_send_is_delivered_by_the_cron(stack: LocalStack) -> None:
    """The webhook's callbacks (PTB raises RetryAfter): the same rule, and the update is answered 200."""
    newcomer = person()
    long_wait = 30  # more than the webhook waits out itself
    _throttle_next_send(stack, retry_after=long_wait)
    answered = stack.send_text(newcomer, "/start")
    assert answered.status == 200
    assert len(stack.bot_api.throttled(newcomer["id"])) == 1
    assert not stack.bot_api.messages_to(newcomer["id"])

    stack.advance_clock(long_wait + 1)
    stack.run_cron()
    _later_runs_until_quiet(stack)
    welcome = stack.bot_api.messages_to(newcomer["id"])
    assert len(welcome) == 1
    assert welcome[0]["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"]  # the buttons came along


# ---------------------------------------------------------------------------------- (c) refused for good
def test_c_a_notice_to_someone_who_blocked_the_bot_is_not_retried(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "are you there?")["message_id"]
    stack.bot_api.blocked_by(sender["id"])
    try:
        replied = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "no one hears"})
        assert replied.status == 409  # refused for good: said so, and nothing kept for later
        assert not _outbox(stack, sender["id"])
    finally:
        stack.bot_api.blocked_by(sender["id"], blocked=False)

    # The owner's announcement owed first (429), then the owner blocks the bot: one more try, refused, never again.
    stack.run_cron()  # what is due already (this owner's first announcement too) goes first
    stack.advance_clock(60)
    code = link_code(stack, owner)
    sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "one more"})
    assert sent.status == 201
    _throttle_next_send(stack)
    stack.run_cron()
    assert len(_pending(stack, owner["id"])) == 1
    stack.bot_api.blocked_by(owner["id"])
    try:
        stack.advance_clock(RETRY_AFTER + 1)
        stack.run_cron()
        tries = stack.bot_api.calls("sendMessage", chat_id=owner["id"])
        assert [c.response.get("error_code") for c in tries[-2:]] == [429, 403]
        assert not _pending(stack, owner["id"])
        _later_runs_until_quiet(stack)
        assert len(stack.bot_api.calls("sendMessage", chat_id=owner["id"])) == len(tries)
    finally:
        stack.bot_api.blocked_by(owner["id"], blocked=False)


# ---------------------------------------------------------------------------------- (d) overlapping runs
def test_d_two_cron_runs_over_the_same_due_notices_deliver_each_once(stack: LocalStack) -> None:
    owners = [person() for _ in range(4)]
    sender = person()
    stack.run_cron()  # nothing else due: the two runs below deliver only these owners' announcements
    for owner in owners:
        code = link_code(stack, owner)
        sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "twice? never"})
        assert sent.status == 201
    assert all(len(_pending(stack, o["id"])) == 1 for o in owners)
    stack.advance_clock(RETRY_AFTER + 1)

    results: list[Any] = []

    def cron() -> None:
        try:
            results.append(stack.run_cron())
        except Exception as exc:  # Lambda may refuse the second (reserved concurrency 1): fine as well
            results.append(exc)

    runs = [threading.Thread(target=cron) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    reports = [r for r in results if isinstance(r, dict)]
    assert reports and sum(r["outbox_sent"] for r in reports) == len(owners)
    for owner in owners:
        assert len(_texts(stack, owner["id"], "twice? never")) == 1
        assert not _pending(stack, owner["id"])


def test_d_a_run_that_read_the_index_before_another_run_delivered_does_not_send_again(stack: LocalStack) -> None:
    """The index is read, then another run delivers everything, then this run goes on with what it read:
    its conditional claim finds the notice taken. And a notice a run holds is not due for any other run."""
    from murmur.delivery import Delivery, NoticeDelivery, Pacer
    from murmur.store.outbox import OutboxRepository
    from murmur.telegram.gateway import HttpGateway
    from tests.functional.helpers import operator_services

    compose = operator_services(stack)._compose_announcement
    owner, second, sender = person(), person(), person()
    for who in (owner, second):
        code = link_code(stack, who)
        assert stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "only once"}).status == 201
    stack.advance_clock(RETRY_AFTER + 1)

    class StackClock:
        def now(self) -> float:
            return stack.now()

    client = stack.dynamodb_client()
    outbox = OutboxRepository(client, stack.env["STATE_TABLE"])
    gateway = HttpGateway(stack.bot_token, stack.bot_api.base_url)

    class StaleRead(OutboxRepository):
        """Reads what is due, then the deployed cron runs in full before this run goes on."""

        def due(self, now: int, limit: int) -> list[Any]:
            found = super().due(now, limit)
            stack.run_cron()
            return found

    try:
        late = NoticeDelivery(gateway, StaleRead(client, stack.env["STATE_TABLE"]), StackClock(), compose=compose)
        outcomes = late.deliver_due(Pacer())
        assert outcomes[Delivery.TAKEN] >= 2
        for who in (owner, second):
            assert len(_texts(stack, who["id"], "only once")) == 1

        # A run holding a notice while it sends: the other run does not see it due.
        third = person()
        code = link_code(stack, third)
        assert stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "held"}).status == 201
        stack.advance_clock(RETRY_AFTER + 1)

        class SlowSend(HttpGateway):
            def send_message(self, chat_id: int, text: str, buttons: Any = None) -> bool:
                stack.run_cron()  # runs while this run holds the notice
                return super().send_message(chat_id, text, buttons)

        holder = NoticeDelivery(
            SlowSend(stack.bot_token, stack.bot_api.base_url), outbox, StackClock(), compose=compose
        )
        assert holder.deliver_due(Pacer())[Delivery.SENT] >= 1
        assert len(_texts(stack, third["id"], "held")) == 1
    finally:
        gateway.close()
        client.close()


# ---------------------------------------------------------------------------------- (e) no sender identity
def test_e_an_owners_announcement_holds_no_sender_identity(stack: LocalStack) -> None:
    """What waits in the outbox for the owner is a count and the chat it goes to: no text, no sender."""
    owner, sender = person("Olwen"), person("Zebedee")
    sender["username"] = "zebedee_secret"
    sender["id"] += 900_000_000  # distinctive digits, so a match below could only be the sender's id
    code = link_code(stack, owner)
    sent = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "guess who wrote"})
    assert sent.status == 201

    (item,) = _outbox(stack, owner["id"])
    assert set(item) <= {"pk", "outbox_shard", "due_at", "chat_id", "seq", "ttl"}
    values = json.dumps(item)
    assert not re.search(rf"(?<!\d){sender['id']}(?!\d)", values)
    assert "Zebedee" not in values and "zebedee_secret" not in values and "guess" not in values
    assert int(item["ttl"]["N"]) <= int(stack.now()) + 7 * DAY + 60  # nothing lives forever

    stack.run_cron()
    assert any("guess who" in text for text in _texts(stack, owner["id"], "guess"))  # written when delivered
    (settled,) = [i for i in _outbox(stack) if i["pk"] == item["pk"]]
    assert "due_at" not in settled and "outbox_shard" not in settled  # out of the due index
    assert set(settled) <= {"pk", "chat_id", "seq", "ttl", "attempts", "quiet_until"}
