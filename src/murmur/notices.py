"""What the bot tells people, as plain values: the API and cron send them through the BotGateway,
the webhook's callbacks through PTB. None of them names a sender."""

from __future__ import annotations

from dataclasses import dataclass, field

from murmur import texts
from murmur.inbox import preview
from murmur.models import Message, Payment
from murmur.telegram.gateway import Button


@dataclass(frozen=True, slots=True)
class Notice:
    chat_id: int
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


def app_url(webapp_url: str, route: str = "") -> str:
    base = webapp_url.split("#", 1)[0]
    return f"{base}#{route}" if route else base


def new_message(webapp_url: str, recipient_id: int, language: str, message: Message) -> Notice:
    return Notice(
        recipient_id,
        texts.text("new_message", language, preview=preview(message.text)),
        [[Button(texts.text("open", language), web_app_url=app_url(webapp_url, f"/m/{message.message_id}"))]],
    )


def new_messages(webapp_url: str, recipient_id: int, language: str, unread: int, newest: Message) -> Notice:
    """One notice for every unread message: the count and the newest one's free preview."""
    if unread == 1:
        return new_message(webapp_url, recipient_id, language, newest)
    return Notice(
        recipient_id,
        texts.text("new_messages", language, count=unread, preview=preview(newest.text)),
        [[Button(texts.text("open_inbox", language), web_app_url=app_url(webapp_url))]],
    )


def reply(sender_language: str | None, message: Message, reply_text: str) -> Notice:
    """To the anonymous sender: what they wrote (a preview) and the owner's answer."""
    return Notice(
        message.sender_id,
        texts.text("reply", sender_language, preview=preview(message.text), text=reply_text),
    )


def welcome(webapp_url: str, user_id: int, language: str, link: str) -> Notice:
    return Notice(
        user_id,
        texts.text("welcome", language, link=link),
        [[Button(texts.text("open_inbox", language), web_app_url=app_url(webapp_url))]],
    )


def write_to(webapp_url: str, user_id: int, language: str, name: str, code: str) -> Notice:
    return Notice(
        user_id,
        texts.text("write_to", language, name=name),
        [[Button(texts.text("write", language), web_app_url=app_url(webapp_url, f"/send/{code}"))]],
    )


def report(admin_id: int, language: str, message: Message, reason: str) -> Notice:
    """To an admin: the reported text and actions. The sender stays a pseudonym even here."""
    key = f"{message.recipient_id}:{message.message_id}"
    return Notice(
        admin_id,
        texts.text(
            "report",
            language,
            message_id=message.message_id,
            recipient_id=message.recipient_id,
            reason=reason or "-",
            text=message.text[:1000],
        ),
        [
            [
                Button(texts.text("ban_sender", language), callback_data=f"ban:{key}"),
                Button(texts.text("block_sender", language), callback_data=f"blk:{key}"),
            ],
            [Button(texts.text("dismiss", language), callback_data=f"ok:{key}")],
        ],
    )


def support_request(admin_id: int, user_id: int, language: str, text: str, payments: list[Payment]) -> Notice:
    """To an admin: a payment problem, from a buyer who chose to write to support (not an anonymous sender)."""
    lines = [f"🧾 /paysupport from user {user_id} ({language}):", text[:1000], "", "Recent payments:"]
    lines += [f"• {p.product} {p.amount} ⭐ {p.status.value} — /refund {p.charge_id}" for p in payments[:5]] or [
        "• none"
    ]
    return Notice(admin_id, "\n".join(lines))
