"""Every plan change the user did not make at that moment is told in the chat (issue 16): Plus's end was, Pro's end
was not. Through the real cron: Pro that runs out after a cancel, after a failed renewal, or with no renewal coming
at all ends with one notice in the user's language and a way back."""

from __future__ import annotations

from typing import Any

import pytest

from murmur import texts
from murmur.models import RENEWAL_GRACE_SECONDS
from sandbox.local_stack import LocalStack
from tests.functional.helpers import buy, person


def _plan(stack: LocalStack, user: dict[str, Any]) -> dict[str, Any]:
    me = stack.api("GET", "/api/me", user=user)
    assert me.status == 200, me.body
    return dict(me.json()["plan"])


def _ended(stack: LocalStack, user: dict[str, Any]) -> list[dict[str, Any]]:
    said = texts.text("pro_expired", user["language_code"])
    return [m for m in stack.bot_api.messages_to(user["id"]) if m.get("text") == said]


@pytest.mark.parametrize(("how", "lang"), [("cancelled", "ru"), ("renewal_failed", "es"), ("no_renewal_came", "en")])
def test_pro_that_ends_without_a_renewal_is_told_once_with_a_way_back(stack: LocalStack, how: str, lang: str) -> None:
    # Given a Pro subscriber whose subscription will not renew
    owner = person(lang=lang)
    buy(stack, owner, "pro_month")
    end = _plan(stack, owner)["expires_at"]
    if how == "cancelled":
        assert stack.change_subscription(owner, "canceled").status == 200
    elif how == "renewal_failed":
        assert stack.renew_subscription(owner, fail=True)["webhook_status"] == 200
    grace = RENEWAL_GRACE_SECONDS if how == "no_renewal_came" else 0

    # When the period (and any grace) has passed and the cron runs, twice
    stack.advance_clock(max(0.0, end + grace + 60 - stack.now()))
    first, second = stack.run_cron(), stack.run_cron()

    # Then Pro is over, and the user is told so once, in their language, with the way to subscribe again
    assert first["expired"] >= 1 and second["expired"] == 0
    assert _plan(stack, owner)["kind"] == "free"
    (ended,) = _ended(stack, owner)
    (button,) = ended["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == texts.text("resubscribe", lang) and button["web_app"]["url"].endswith("#/plans")
