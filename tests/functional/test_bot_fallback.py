"""The bot answers what it does not understand (issue 16): free text and unknown commands get the short help and
the button into the Mini App, in the user's language, while commands, payments, support requests and admin
commands go where they always went."""

from __future__ import annotations

from typing import Any

import pytest

from murmur import texts
from sandbox.local_stack import LocalStack, demo_user
from tests.functional.conftest import ALICE
from tests.functional.helpers import buy, person


def _said(stack: LocalStack, user: dict[str, Any], before: int) -> list[dict[str, Any]]:
    return stack.bot_api.messages_to(user["id"])[before:]


@pytest.mark.parametrize(("lang", "typed"), [("ru", "привет"), ("es", "/hola"), ("en", "what is this?")])
def test_free_text_and_unknown_commands_get_the_short_help_and_the_app_button(
    stack: LocalStack, lang: str, typed: str
) -> None:
    user = person(lang=lang)
    assert stack.send_text(user, typed).status == 200
    (answer,) = _said(stack, user, 0)
    assert answer["text"] == texts.text("fallback", lang)
    (button,) = answer["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == texts.text("open_app", lang) and button["web_app"]["url"].startswith("http://127.0.0.1")


def test_only_what_no_other_handler_takes_gets_the_help(stack: LocalStack) -> None:
    # Given a user who asks for help, writes to support, pays, and types an admin's command
    user = person()
    stack.send_text(user, "/help")
    stack.send_text(user, "/paysupport paid for Plus, still locked")
    buy(stack, user, "plus_week")
    stack.send_text(user, "/stats")
    # Then each is answered once, by its own handler; only the admin command (not one for them) gets the help
    said = [m["text"] for m in _said(stack, user, 0)]
    assert len(said) == 4
    assert said[:2] == [texts.text("help", "en"), texts.text("support_sent", "en")]
    assert said[2].startswith("✅ Paid 15 ⭐: Murmur Plus")
    assert said[3] == texts.text("fallback", "en")
    # And an admin's /stats is the admin's report, not the help
    admin = demo_user(ALICE)
    before = len(stack.bot_api.messages_to(ALICE))
    stack.send_text(admin, "/stats")
    (stats,) = _said(stack, admin, before)
    assert stats["text"].startswith("Revenue (Stars")
