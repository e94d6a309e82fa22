"""Each route and bot command calls one domain operation, which owns the reads it needs, so what a request costs
in DynamoDB calls is the domain's to keep (docs/access-patterns.md, "Round trips per operation"); and the
dashboard's MessagesSent is emitted where a message is stored (issue 15)."""

from __future__ import annotations

import json
from typing import Any

from sandbox.local_stack import LocalStack
from tests.functional.conftest import ALICE
from tests.functional.helpers import link_code, person, send

API, WEBHOOK = "MiniAppApiFunction", "WebhookFunction"


def calls_of(stack: LocalStack, function: str) -> dict[str, int]:
    return {op: count for (name, op), count in stack.aws.operations().items() if name == function}


def spent(stack: LocalStack, function: str, before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in calls_of(stack, function).items() if n != before.get(op, 0)}


def test_the_send_page_and_a_reply_cost_what_the_access_patterns_say(stack: LocalStack) -> None:
    # Given an owner's link, the API container warm, and the gift catalogue cached by a cron run
    owner, visitor = person("Owner"), person("Visitor")
    code = link_code(stack, owner)
    stack.run_cron()
    assert stack.api("GET", f"/api/links/{code}", user=visitor).status == 200

    # When someone opens the send page
    before = calls_of(stack, API)
    page = stack.api("GET", f"/api/links/{code}", user=visitor)

    # Then the page is whole, for two round trips: the link, then the owner's controls and the catalogue at once
    assert page.status == 200, page.body
    assert page.json()["display_name"] == "Owner" and page.json()["accepts_messages"] is True
    assert page.json()["telegram_gifts"], "the catalogue the cron cached is offered"
    assert spent(stack, API, before) == {"GetItem": 1, "BatchGetItem": 1}

    # And a reply: the owner, the message and the owner's reply window, the sender's language, the reply kept
    sender = person("Sender", lang="es")
    first = send(stack, owner, sender, "warm up the replies")
    warm = stack.api("POST", f"/api/messages/{first['message_id']}/reply", user=owner, json={"text": "hi"})
    assert warm.status == 202, warm.body
    mid = send(stack, owner, sender, "answer me")["message_id"]
    before = calls_of(stack, API)
    answered = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "gracias"})
    assert answered.status == 202, answered.body
    assert spent(stack, API, before) == {"GetItem": 3, "UpdateItem": 2}
    assert "gracias" in stack.bot_api.messages_to(sender["id"])[-1]["text"]


def test_stats_read_the_revenue_and_the_invite_tallies_in_one_call(stack: LocalStack) -> None:
    stack.send_text(ALICE, "/stats")  # the webhook container warm
    before = calls_of(stack, WEBHOOK)
    stack.send_text(ALICE, "/stats")
    cost = spent(stack, WEBHOOK, before)
    # Besides the update's own claim and release (a conditional PutItem and an UpdateItem), one BatchGetItem.
    reads = {op: n for op, n in cost.items() if op in ("GetItem", "BatchGetItem", "Query")}
    assert reads == {"BatchGetItem": 1}, cost
    assert "Revenue" in stack.bot_api.messages_to(ALICE)[-1]["text"]


def _metrics(stack: LocalStack, seen: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.log_lines()[seen:] if line.startswith('{"_aws"')]


def test_a_stored_message_is_counted_for_the_dashboard_without_anyone_in_it(stack: LocalStack) -> None:
    owner, sender = person(), person()
    link_code(stack, owner)
    seen = len(stack.log_lines())

    send(stack, owner, sender, "count me")

    lines = _metrics(stack, seen)
    sent = [m for m in lines if "MessagesSent" in m]
    assert len(sent) == 1 and sent[0]["MessagesSent"] in (1, 1.0, [1.0])
    assert sent[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Murmur"
    assert all(str(owner["id"]) not in json.dumps(m) and str(sender["id"]) not in json.dumps(m) for m in lines)
