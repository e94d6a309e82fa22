"""The local stack is as strict as production, and the product passes on it.

Each test here would pass on a kinder stack only if the product were broken or the strictness gone: IAM
from the template refuses exactly what a policy does not grant, DynamoDB's transaction conflicts and
throttling happen, Telegram's flood control paces the bot, and Lambda cuts a container off at its Timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.local_stack import LocalStack
from sandbox.tables import TEMPLATE, load_template
from tests.functional.helpers import link_code, person, send

Template = dict[str, Any]


def template_variant(tmp_path: Path, change: Callable[[Template], None]) -> Path:
    """A copy of infra/template.yaml with one change, for a stack of its own (the functions stay the real ones)."""
    template = load_template(TEMPLATE)
    change(template)
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


def statement(template: Template, function: str, sid: str) -> dict[str, Any]:
    statements = template["Resources"][function]["Properties"]["Policies"][0]["Statement"]
    return next(s for s in statements if s["Sid"] == sid)


@pytest.fixture
def variant_stack(tmp_path: Path) -> Iterator[Callable[[Callable[[Template], None]], LocalStack]]:
    stacks: list[LocalStack] = []

    def start(change: Callable[[Template], None]) -> LocalStack:
        stack = LocalStack(template_path=template_variant(tmp_path, change))
        stacks.append(stack)
        stack.start()
        return stack

    yield start
    for stack in stacks:
        stack.stop()


# ---------------------------------------------------------------------------------------------- IAM
def test_without_one_action_exactly_the_operations_that_need_it_fail(variant_stack: Any) -> None:
    """The Mini App API loses BatchGetItem on the links table: sending (which reads the link and the sender in
    one batch) is refused as AWS refuses it; opening the app, the inbox and the bot still work."""

    def drop_batch_get_on_links(template: Template) -> None:
        links = statement(template, "MiniAppApiFunction", "Links")
        links["Action"] = [a for a in links["Action"] if a != "dynamodb:BatchGetItem"]

    stack = variant_stack(drop_batch_get_on_links)
    owner, sender = person(), person()
    code = link_code(stack, owner)
    refused = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "are you there at all?"})

    assert refused.status == 500
    links_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{stack.tables['LINKS_TABLE']}"
    assert [tuple(d) for d in stack.aws.denials] == [("MiniAppApiFunction", "dynamodb:BatchGetItem", links_arn)]
    assert any("AccessDeniedException" in line for line in stack.log_lines("MiniAppApiFunction"))
    assert stack.api("GET", "/api/inbox", user=owner).json()["messages"] == []  # nothing was written
    assert stack.api("GET", "/api/me", user=sender).status == 200
    assert stack.send_text(sender, "/start").status == 200
    assert len(stack.aws.denials) == 1


def test_a_secret_outside_a_functions_policy_denies_its_whole_parameter_read(variant_stack: Any) -> None:
    """As the template was: every function configured with the webhook's secret, which only the webhook may read.
    IAM authorizes GetParameters name by name, so the API could not start at all; the webhook still could."""

    def webhook_secret_for_everyone(template: Template) -> None:
        webhook = template["Resources"]["WebhookFunction"]["Properties"]
        variable = webhook["Environment"]["Variables"].pop("TELEGRAM_WEBHOOK_SECRET_PARAM")
        template["Globals"]["Function"]["Environment"]["Variables"]["TELEGRAM_WEBHOOK_SECRET_PARAM"] = variable

    stack = variant_stack(webhook_secret_for_everyone)

    assert stack.api("GET", "/api/me", user=person()).status == 500
    denied = {(d.logical_id, d.action, d.resource.rsplit(":", 1)[-1]) for d in stack.aws.denials}
    secret = stack.parameter_values["WebhookSecretParameterName"]
    assert ("MiniAppApiFunction", "ssm:GetParameters", f"parameter{secret}") in denied
    assert stack.send_text(person(), "/start").status == 200
    assert all(d.logical_id != "WebhookFunction" for d in stack.aws.denials)


# ---------------------------------------------------------------------------------------------- DynamoDB
def test_concurrent_sends_from_one_sender_all_land_through_real_transaction_conflicts() -> None:
    """Six containers at once send one person's messages (within their limit), so every transaction writes that
    sender's rate window: DynamoDB cancels the conflicting ones, and the product's retries land every message
    exactly once. (Sends to one owner from many senders no longer share an item: test_viral_inbox.py.)"""
    with LocalStack(max_containers=6) as stack:
        owner, sender = person(), person()
        code = link_code(stack, owner)
        assert stack.api("GET", "/api/me", user=sender).status == 200
        barrier = threading.Barrier(6)
        statuses: list[int] = []

        def write(count: int) -> None:
            barrier.wait()
            for i in range(count):
                body = {"text": f"hello again, number {i}"}
                statuses.append(stack.api("POST", f"/api/links/{code}/messages", user=sender, json=body).status)

        threads = [threading.Thread(target=write, args=(2,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert statuses == [201] * 12
        assert stack.aws.conflicts > 0, "no transaction ever conflicted: the race did not happen"
        assert stack.functions["MiniAppApiFunction"].container.cold_starts >= 2  # really concurrent containers
        inbox = stack.api("GET", "/api/inbox", user=owner).json()["messages"]
        assert len(inbox) == 12


def test_throttling_is_retried_and_past_the_retries_nothing_is_written(stack: LocalStack) -> None:
    owner, sender = person(), person()
    code = link_code(stack, owner)
    stack.api("GET", "/api/me", user=sender)

    stack.aws.inject("TransactWriteItems", "ThrottlingException", times=2, function="MiniAppApiFunction")
    assert send(stack, owner, sender, "through a throttled table")["message_id"]  # botocore retried

    stack.aws.inject("TransactWriteItems", "ProvisionedThroughputExceededException", times=20)
    try:
        refused = stack.api("POST", f"/api/links/{code}/messages", user=sender, json={"text": "never stored"})
    finally:
        stack.aws.clear_injected()
    assert refused.status in (500, 503)
    assert refused.json()["error"]["code"]
    texts = [m["preview"] for m in stack.api("GET", "/api/inbox", user=owner).json()["messages"]]
    assert len(texts) == 1 and "never" not in " ".join(texts)


# ---------------------------------------------------------------------------------------------- Telegram
def test_many_owners_notified_at_once_stay_under_telegrams_overall_limit(stack: LocalStack) -> None:
    """Forty owners each get a message; one cron run tells every one of them, paced under Telegram's ~30
    messages a second in all: not one 429 from Telegram, and each owner told once."""
    owners = [person() for _ in range(40)]
    for owner in owners:
        send(stack, owner, person(), "one of many owners at once")
    stack.bot_api.clear()

    report = stack.run_cron()

    assert report["outbox_sent"] >= len(owners)  # and what earlier tests of the module left due
    assert stack.bot_api.throttled() == []
    for owner in owners:
        assert len(stack.bot_api.messages_to(owner["id"])) == 1


def test_replies_past_one_chats_rate_are_paced_and_none_is_lost(stack: LocalStack) -> None:
    """An owner answers six messages of one sender in a row: Telegram takes the first few replies to that chat and
    answers 429 to the rest (its real flood control, nothing injected); those wait in the outbox and the cron
    delivers every one, paced, each exactly once."""
    owner, sender = person(), person()
    mids = [send(stack, owner, sender, f"question number {i} for you")["message_id"] for i in range(6)]
    for i, mid in enumerate(mids):
        replied = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": f"answer number {i}"})
        assert replied.status < 300, replied.body
    assert stack.bot_api.throttled(sender["id"]), "the replies never exceeded Telegram's rate for one chat"

    for _ in range(10):  # bounded: each run sends what the pacer allows
        if len(stack.bot_api.messages_to(sender["id"])) >= len(mids):
            break
        threading.Event().wait(1.0)  # Telegram's flood windows run on real time, as runs a minute apart would
        stack.advance_clock(60)
        stack.run_cron()
    delivered = [m["text"] for m in stack.bot_api.messages_to(sender["id"])]
    for i in range(len(mids)):
        assert sum(f"answer number {i}" in text for text in delivered) == 1, (i, delivered)
    assert len(delivered) == len(mids)


# ---------------------------------------------------------------------------------------------- Lambda
def test_an_update_whose_container_timed_out_is_processed_on_redelivery(variant_stack: Any) -> None:
    """The webhook runs past its Timeout (Telegram answers slowly): Lambda stops it, API Gateway answers 500,
    Telegram redelivers; the update's claim ran out with the container, so the redelivery is processed."""

    def short_timeout(template: Template) -> None:
        template["Resources"]["WebhookFunction"]["Properties"]["Timeout"] = 2

    stack = variant_stack(short_timeout)
    newcomer = person()
    update = stack.message_update(newcomer, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    stack.bot_api.delay_next("sendMessage", 4)

    assert stack.webhook(update).status == 500
    assert stack.functions["WebhookFunction"].container.timeouts == 1

    stack.advance_clock(120)  # Telegram's redelivery comes later than the dead container's lease
    assert stack.webhook(update).status == 200
    welcomes = stack.bot_api.succeeded("sendMessage", chat_id=newcomer["id"])
    assert welcomes, "the redelivered update was dropped by its own dedupe record"
    assert stack.webhook(update).status == 200  # and once done, a further redelivery changes nothing
    assert len(stack.bot_api.succeeded("sendMessage", chat_id=newcomer["id"])) == len(welcomes)


def test_an_update_redelivered_while_another_container_works_on_it_is_not_processed_twice(stack: LocalStack) -> None:
    """Two containers get the same update at once: the second sees the first's live claim and asks Telegram to
    come back later (5xx), rather than answering 200 for work that may yet fail, or doing it twice."""
    assert stack.send_text(person(), "/help").status == 200  # a warm container takes the first delivery at once
    newcomer = person()
    update = stack.message_update(newcomer, text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    stack.bot_api.delay_next("sendMessage", 2)
    first: list[int] = []
    worker = threading.Thread(target=lambda: first.append(stack.webhook(update).status))
    worker.start()
    threading.Event().wait(1.0)  # the first container holds the claim and waits on Telegram

    assert stack.webhook(update).status == 503
    worker.join(30)
    assert first == [200]
    assert stack.webhook(update).status == 200  # Telegram's later redelivery: done already, nothing more
    assert len(stack.bot_api.succeeded("sendMessage", chat_id=newcomer["id"])) == 1
