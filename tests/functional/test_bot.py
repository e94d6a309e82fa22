"""The bot's conversation: /start with and without a code, referrals, /help, replies to senders."""

from __future__ import annotations

from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person, send


def _last(stack: LocalStack, user: dict) -> dict:  # type: ignore[type-arg]
    return dict(stack.bot_api.messages_to(user["id"])[-1])


def test_start_gives_the_personal_link_and_an_inbox_button(stack: LocalStack) -> None:
    newcomer = person("Nina")
    stack.send_text(newcomer, "/start")
    welcome = _last(stack, newcomer)
    code = link_code(stack, newcomer)
    assert f"?startapp={code}" in welcome["text"]
    button = welcome["reply_markup"]["inline_keyboard"][0][0]
    assert button["web_app"]["url"].startswith("http://127.0.0.1")


def test_start_with_someones_code_opens_their_send_page(stack: LocalStack) -> None:
    owner, visitor = person("Olga"), person("Vic", lang="ru")
    code = link_code(stack, owner)
    stack.send_text(visitor, f"/start {code}")
    note = _last(stack, visitor)
    assert "Olga" in note["text"] and "анонимное" in note["text"]
    assert note["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"].endswith(f"#/send/{code}")


def test_referrals_are_attributed_once_and_telegram_affiliate_params_pass_through(stack: LocalStack) -> None:
    owner = person()
    code = link_code(stack, owner)
    friend, affiliate_visitor = person(), person()
    stack.send_text(friend, f"/start ref_{code}")
    stack.send_text(friend, f"/start ref_{code}")
    stack.send_text(affiliate_visitor, "/start _tgr_AbCdEf123")
    assert "startapp=" in _last(stack, affiliate_visitor)["text"]
    assert stack.api("GET", "/api/me", user=owner).json()["referrals"] == 1


def test_help_in_the_users_language(stack: LocalStack) -> None:
    carla = person("Carla", lang="es")
    stack.send_text(carla, "/help")
    assert "buzón anónimo" in _last(stack, carla)["text"]


def test_owner_reply_reaches_the_sender_without_revealing_anyone(stack: LocalStack) -> None:
    owner, sender = person("Olga"), person("Sergei")
    mid = send(stack, owner, sender, "will you answer me")["message_id"]
    r = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "Of course!"})
    assert r.status == 202, r.body
    note = _last(stack, sender)
    assert "Of course!" in note["text"] and "will you answer…" in note["text"]
    assert "Olga" not in note["text"]


def test_reply_to_a_sender_who_blocked_the_bot_is_a_clear_conflict(stack: LocalStack) -> None:
    owner, sender = person(), person()
    mid = send(stack, owner, sender, "then I blocked the bot")["message_id"]
    stack.bot_api.blocked_by(sender["id"])
    r = stack.api("POST", f"/api/messages/{mid}/reply", user=owner, json={"text": "hello?"})
    assert r.status == 409 and r.json()["error"]["code"] == "reply_undeliverable"  # as for an erased sender


def test_a_failed_notification_never_loses_the_message(stack: LocalStack) -> None:
    owner, sender = person(), person()
    link_code(stack, owner)
    stack.bot_api.fail_next("sendMessage", error_code=500)
    mid = send(stack, owner, sender, "the bot api is down")["message_id"]
    inbox = stack.api("GET", "/api/inbox", user=owner).json()["messages"]
    assert [m["id"] for m in inbox] == [mid]


def test_paysupport_request_reaches_the_admins_with_refund_commands(stack: LocalStack) -> None:
    from tests.functional.conftest import ALICE
    from tests.functional.helpers import buy

    buyer, sender = person("Bea"), person()
    mid = send(stack, buyer, sender, "pay first, then complain loudly")["message_id"]
    paid = buy(stack, buyer, "unlock", mid)
    stack.send_text(buyer, "/paysupport paid but nothing happened")
    assert "support" in _last(stack, buyer)["text"]
    admin_note = stack.bot_api.messages_to(ALICE)[-1]["text"]
    assert "paid but nothing happened" in admin_note and f"/refund {paid['charge_id']}" in admin_note
