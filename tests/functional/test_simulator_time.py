"""The simulator's clock behaves like Telegram's (issue 16): moving it past the end of a Pro period renews the
subscription by itself (a successful_payment with is_recurring, through the webhook, as the "Renew" control does),
unless it was cancelled; a failed renewal can be chosen instead. Through `/sandbox/clock` on the strict stack."""

from __future__ import annotations

import json
from typing import Any

from sandbox.local_stack import LocalStack
from sandbox.simulator_api import SimulatorApi
from tests.functional.helpers import buy, person

DAY = 86400


def _advance(stack: LocalStack, days: float, **extra: Any) -> tuple[int, Any]:
    body = json.dumps({"advance_seconds": days * DAY, **extra}).encode()
    status, _, data = SimulatorApi(stack).handle("POST", "/sandbox/clock", body)
    return status, json.loads(data)


def _plan(stack: LocalStack, user: dict[str, Any]) -> dict[str, Any]:
    return dict(stack.api("GET", "/api/me", user=user).json()["plan"])


def _to_just_before(stack: LocalStack, epoch: int) -> None:
    stack.advance_clock(max(0.0, epoch - 3600 - stack.now()))


def test_pro_renews_by_itself_when_the_clock_passes_its_period_and_not_once_cancelled(stack: LocalStack) -> None:
    # Given two Pro subscribers, one of whom cancelled
    keeps, leaves = person(), person()
    for owner in (keeps, leaves):
        buy(stack, owner, "pro_month")
    assert stack.change_subscription(leaves, "canceled").status == 200
    first_end = _plan(stack, keeps)["expires_at"]
    _to_just_before(stack, first_end)

    # When the simulator's clock passes the end of the period
    status, moved = _advance(stack, 1)

    # Then Telegram charged the renewal of the one that renews, through the webhook, as a recurring payment
    assert status == 200
    mine = [r for r in moved["renewals"] if r["user"] in (keeps["id"], leaves["id"])]
    assert [(r["user"], r["status"], r["webhook_status"]) for r in mine] == [(keeps["id"], "paid", 200)]
    charge = stack.bot_api.charge(mine[0]["charge_id"])
    assert charge["user_id"] == keeps["id"] and charge["subscription_period"] == 30 * DAY
    plan = _plan(stack, keeps)
    assert plan["kind"] == "pro" and plan["active"] and plan["expires_at"] > first_end + 29 * DAY
    assert not _plan(stack, leaves)["active"]
    # And moving on within the new period charges nothing more
    assert [r for r in _advance(stack, 1)[1]["renewals"] if r["user"] == keeps["id"]] == []


def test_a_failed_renewal_can_be_chosen_and_pro_ends_with_a_notice(stack: LocalStack) -> None:
    owner = person()
    buy(stack, owner, "pro_month")
    end = _plan(stack, owner)["expires_at"]
    _to_just_before(stack, end)

    status, moved = _advance(stack, 1, renewals_fail=True)

    assert status == 200
    (failed,) = [r for r in moved["renewals"] if r["user"] == owner["id"]]
    assert failed["status"] == "failed" and failed["webhook_status"] == 200
    assert not _plan(stack, owner)["active"]
    assert "could not charge" in stack.bot_api.messages_to(owner["id"])[-1]["text"]
    assert [r for r in _advance(stack, 31)[1]["renewals"] if r["user"] == owner["id"]] == []  # it renews no more
    assert _advance(stack, 1, renewals_fail="yes")[0] == 400
