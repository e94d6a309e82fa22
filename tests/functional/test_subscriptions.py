"""Pro as a native Stars subscription through the real webhook, API and cron: renewals keep the subscription's
id (its first charge), a late renewal finds Pro still running within the grace, Telegram's Bot API 10.2
`subscription` updates (canceled, active, failed) move Pro, and erasure leaves no subscription running."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import Update

from murmur import texts
from murmur.models import RENEWAL_GRACE_SECONDS
from murmur.telegram.bot import subscription_change
from sandbox.local_stack import LocalStack, demo_user
from sandbox.simulator_api import SimulatorApi
from tests.functional.conftest import CARLA
from tests.functional.helpers import buy, operator_services, payment_rows, person

HOUR = 3600


@pytest.fixture
def operator(stack: LocalStack) -> Iterator[Any]:
    services = operator_services(stack)
    yield services
    services.close()


def _plan(stack: LocalStack, user: dict[str, Any]) -> dict[str, Any]:
    me = stack.api("GET", "/api/me", user=user)
    assert me.status == 200, me.body
    return dict(me.json()["plan"])


def _at(stack: LocalStack, epoch: float) -> None:
    """Move the functions' clock to `epoch` (forward only)."""
    stack.advance_clock(max(0.0, epoch - stack.now()))


def _cancel_names(stack: LocalStack, owner: dict[str, Any]) -> str:
    """Cancel Pro from the app; the charge id editUserStarSubscription was given."""
    cancelled = stack.api("POST", "/api/plan/pro/cancel", user=owner)
    assert cancelled.status == 200, cancelled.body
    edit = stack.bot_api.calls("editUserStarSubscription", user_id=owner["id"])[-1]
    assert edit.ok and edit.params["is_canceled"] is True
    return str(edit.params["telegram_payment_charge_id"])


# ---------------------------------------------------------------------- renewals
def test_a_renewal_two_hours_late_keeps_pro_continuous_and_cancelling_names_the_first_charge(stack: LocalStack) -> None:
    owner = person()
    first = buy(stack, owner, "pro_month")["charge_id"]
    first_end = _plan(stack, owner)["expires_at"]

    _at(stack, first_end + 2 * HOUR - 60)  # Telegram's renewal has not arrived yet
    assert _plan(stack, owner)["active"], "Pro must not stop at the period's end while its renewal is due"
    stack.run_cron()
    plan = _plan(stack, owner)
    assert plan["kind"] == "pro" and plan["active"], "the cron must not expire a Pro whose renewal is due"

    _at(stack, first_end + 2 * HOUR)
    renewal = stack.renew_subscription(owner, first)
    assert renewal["webhook_status"] == 200
    plan = _plan(stack, owner)
    assert plan["kind"] == "pro" and plan["active"] and plan["expires_at"] > first_end + 29 * 86400
    assert "renewed" in stack.bot_api.messages_to(owner["id"])[-1]["text"]
    assert _cancel_names(stack, owner) == first != renewal["charge_id"]
    assert stack.bot_api.subscription_canceled(owner["id"], first)


def test_a_renewal_after_pro_lapsed_renews_the_first_subscription(stack: LocalStack, operator: Any) -> None:
    owner = person()
    first = buy(stack, owner, "pro_month")["charge_id"]
    first_end = _plan(stack, owner)["expires_at"]

    _at(stack, first_end + RENEWAL_GRACE_SECONDS + HOUR)  # later than the grace: the cron ends Pro
    stack.run_cron()
    assert _plan(stack, owner)["kind"] == "free"

    renewal = stack.renew_subscription(owner, first)
    assert renewal["webhook_status"] == 200
    plan = _plan(stack, owner)
    assert plan["kind"] == "pro" and plan["active"]
    assert operator.repos.users.get(owner["id"], consistent=True).pro_charge_id == first
    row = payment_rows(stack, renewal["charge_id"])[0]
    assert "flag" not in row and row["subscription_charge_id"]["S"] == first
    assert _cancel_names(stack, owner) == first


# ---------------------------------------------------------------------- Telegram's subscription updates
def test_the_webhook_reads_bot_api_10_2_subscription_updates_through_ptbs_public_api() -> None:
    raw = {"id": 7, "is_bot": False, "first_name": "Ann"}
    update = Update.de_json(
        {"update_id": 1, "subscription": {"user": raw, "invoice_payload": "o_x", "state": "failed"}}, None
    )
    change = subscription_change(update)
    assert change is not None and (change.user_id, change.invoice_payload, change.state) == (7, "o_x", "failed")
    message = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "from": raw, "text": "hi"}
    assert subscription_change(Update.de_json({"update_id": 2, "message": message}, None)) is None


def test_cancelled_in_telegram_pro_runs_to_the_periods_end_without_grace(stack: LocalStack) -> None:
    owner = person()
    buy(stack, owner, "pro_month")
    first_end = _plan(stack, owner)["expires_at"]
    assert stack.change_subscription(owner, "canceled").status == 200
    plan = _plan(stack, owner)
    assert plan["cancelled"] and plan["active"] and plan["expires_at"] == first_end

    _at(stack, first_end + 60)
    assert not _plan(stack, owner)["active"], "no renewal is coming: no grace"
    stack.run_cron()
    assert _plan(stack, owner)["kind"] == "free"


def test_re_enabled_in_telegram_pro_expects_its_renewal_again(stack: LocalStack) -> None:
    owner = person()
    buy(stack, owner, "pro_month")
    first_end = _plan(stack, owner)["expires_at"]
    assert stack.change_subscription(owner, "canceled").status == 200
    assert stack.change_subscription(owner, "active").status == 200
    assert not _plan(stack, owner)["cancelled"]

    _at(stack, first_end + HOUR)
    stack.run_cron()
    plan = _plan(stack, owner)
    assert plan["kind"] == "pro" and plan["active"], "a renewal is expected again: the grace applies"
    assert stack.renew_subscription(owner)["webhook_status"] == 200
    assert _plan(stack, owner)["expires_at"] > first_end + 29 * 86400


@pytest.mark.parametrize("lang", ["ru", "es"])
def test_a_failed_renewal_ends_pro_at_the_periods_end_and_says_so_once_with_a_way_back(
    stack: LocalStack, lang: str
) -> None:
    owner = person(lang=lang)
    buy(stack, owner, "pro_month")
    first_end = _plan(stack, owner)["expires_at"]
    _at(stack, first_end - 60)
    before = len(stack.bot_api.messages_to(owner["id"]))

    failed = stack.renew_subscription(owner, fail=True)  # Telegram could not charge the next period
    assert failed["webhook_status"] == 200
    plan = _plan(stack, owner)
    assert plan["cancelled"] and plan["active"] and plan["expires_at"] == first_end
    notices = stack.bot_api.messages_to(owner["id"])[before:]
    assert len(notices) == 1
    until = texts.text("pro_payment_failed", lang, until="X").split("X")[0]
    assert notices[0]["text"].startswith(until)
    (button,) = notices[0]["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == texts.text("resubscribe", lang) and button["web_app"]["url"].endswith("#/plans")

    # Telegram delivers it again (a new update id, as a resend would have): nothing changes, nothing is said.
    assert stack.change_subscription(owner, "failed").status == 200
    assert len(stack.bot_api.messages_to(owner["id"])) == before + 1
    resumed = stack.api("POST", "/api/plan/pro/resume", user=owner)
    assert resumed.status == 409, "a failed subscription is not resumed: the user subscribes again"

    _at(stack, first_end + 60)
    assert not _plan(stack, owner)["active"], "a failed subscription gets no grace"
    assert stack.api("POST", "/api/orders", user=owner, json={"product": "pro_month"}).status == 201


# ---------------------------------------------------------------------- erasure
def test_erasure_cancels_a_running_pro_subscription_by_its_first_charge(stack: LocalStack) -> None:
    owner = person()
    first = buy(stack, owner, "pro_month")["charge_id"]
    stack.renew_subscription(owner, first)  # a renewal's charge id must not be what is cancelled
    erased = stack.api("DELETE", "/api/me", user=owner)
    assert erased.status in (200, 202), erased.body
    (edit,) = stack.bot_api.calls("editUserStarSubscription", user_id=owner["id"])
    assert edit.ok and edit.params == {"user_id": owner["id"], "telegram_payment_charge_id": first, "is_canceled": True}
    assert stack.bot_api.subscription_canceled(owner["id"], first)


def test_erasure_waits_while_telegram_cannot_cancel_the_subscription(stack: LocalStack, operator: Any) -> None:
    owner = person()
    first = buy(stack, owner, "pro_month")["charge_id"]
    stack.bot_api.fail_next("editUserStarSubscription", 502, "Bad Gateway")
    assert stack.api("DELETE", "/api/me", user=owner).status == 503
    assert operator.repos.users.get(owner["id"], consistent=True) is not None, "nothing erased yet"
    stack.bot_api.fail_next("editUserStarSubscription", 500)
    assert stack.send_text(owner, "/deleteme").status == 200
    assert stack.bot_api.messages_to(owner["id"])[-1]["text"] == texts.text("erase_later", "en")
    assert operator.repos.users.get(owner["id"], consistent=True) is not None, "nothing erased yet"
    assert stack.send_text(owner, "/deleteme").status == 200  # the person's retry
    assert stack.bot_api.subscription_canceled(owner["id"], first)
    left = operator.repos.users.get(owner["id"], consistent=True)
    assert left is None or left.erasing, "erased, or being erased"


def test_a_renewal_charged_before_erasure_and_delivered_after_is_refunded_never_granted(
    stack: LocalStack, operator: Any
) -> None:
    owner = person(lang="es")
    paid = buy(stack, owner, "pro_month")
    _at(stack, _plan(stack, owner)["expires_at"])
    renewal = stack.bot_api.renew_subscription(paid["charge_id"])  # charged; its update is still on its way
    assert stack.api("DELETE", "/api/me", user=owner).status in (200, 202)
    before = len(stack.bot_api.messages_to(owner["id"]))

    payment = {
        "currency": "XTR",
        "total_amount": 50,
        "invoice_payload": paid["invoice_payload"],
        "telegram_payment_charge_id": renewal,
        "provider_payment_charge_id": "",
        "subscription_expiration_date": int(stack.now()) + 2592000,
        "is_recurring": True,
    }
    assert stack.webhook(stack.message_update(owner, successful_payment=payment)).status == 200
    (row,) = payment_rows(stack, renewal)
    assert row["flag"]["S"] == "payer_erased" and row["status"]["S"] == "refunded"
    (refund,) = stack.bot_api.calls("refundStarPayment", telegram_payment_charge_id=renewal)
    assert refund.ok and refund.params["user_id"] == owner["id"]
    assert operator.repos.users.get(owner["id"], consistent=True) is None, "never granted: no account made again"
    told = stack.bot_api.messages_to(owner["id"])[before:]
    assert [m["text"] for m in told] == [
        texts.text("auto_refunded", "es", stars=50, reason=texts.text("refund_reason_no_match", "es"))
    ]


# ---------------------------------------------------------------------- the simulator
def _simulate(stack: LocalStack, body: dict[str, Any]) -> tuple[int, Any]:
    status, _, data = SimulatorApi(stack).handle("POST", "/sandbox/subscription", json.dumps(body).encode())
    return status, json.loads(data)


def test_the_simulator_renews_fails_cancels_and_re_enables_the_latest_subscription(stack: LocalStack) -> None:
    carla = demo_user(CARLA)
    assert _simulate(stack, {"user": CARLA, "event": "renewal"})[0] == 400  # no subscription yet
    buy(stack, carla, "pro_month")
    first_end = _plan(stack, carla)["expires_at"]

    assert _simulate(stack, {"user": CARLA, "event": "canceled"}) == (
        200,
        {"status": "canceled", "webhook_status": 200},
    )
    assert _plan(stack, carla)["cancelled"]
    assert _simulate(stack, {"user": CARLA, "event": "active"})[1]["webhook_status"] == 200
    assert not _plan(stack, carla)["cancelled"]

    _at(stack, first_end)
    status, renewed = _simulate(stack, {"user": CARLA, "event": "renewal"})
    assert status == 200 and renewed["status"] == "paid" and renewed["webhook_status"] == 200
    assert _plan(stack, carla)["expires_at"] > first_end

    assert _simulate(stack, {"user": CARLA, "event": "failed"})[1]["webhook_status"] == 200
    assert _plan(stack, carla)["cancelled"]
    assert stack.bot_api.messages_to(CARLA)[-1]["text"].startswith(
        texts.text("pro_payment_failed", carla["language_code"], until="X")[:30]
    )
    assert _simulate(stack, {"user": CARLA, "event": "later"})[0] == 400
