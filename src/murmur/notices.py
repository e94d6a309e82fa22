"""What the bot tells people, as plain values: the API and cron send them through the gateway (`ports.Messenger`),
the webhook's callbacks through PTB. None of them names a sender. Whatever a person wrote or named
themselves (a message, a reason, a first name) goes in without bidirectional controls, so it cannot
reorder the words around it (`user_text`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from murmur import texts
from murmur.models import Message, Payment, ReportToReview
from murmur.ports import Button
from murmur.user_text import preview, without_bidi_controls


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
        texts.text("reply", sender_language, preview=preview(message.text), text=without_bidi_controls(reply_text)),
    )


def welcome(webapp_url: str, user_id: int, language: str, link: str) -> Notice:
    return Notice(
        user_id,
        texts.text("welcome", language, link=link),
        [[Button(texts.text("open_inbox", language), web_app_url=app_url(webapp_url))]],
    )


def fallback(webapp_url: str, user_id: int, language: str | None) -> Notice:
    """Free text or a command the bot does not know: the short help, and the way into the app."""
    return Notice(
        user_id,
        texts.text("fallback", language),
        [[Button(texts.text("open_app", language), web_app_url=app_url(webapp_url))]],
    )


def write_to(webapp_url: str, user_id: int, language: str, name: str, code: str) -> Notice:
    return Notice(
        user_id,
        texts.text("write_to", language, name=without_bidi_controls(name)),
        [[Button(texts.text("write", language), web_app_url=app_url(webapp_url, f"/send/{code}"))]],
    )


REPORT_TEXT_CHARS = 300  # of each reported message, in a digest (five of them stay well under Telegram's 4096)


def report_digest(admin_id: int, language: str, new_reports: int, waiting: int, oldest: list[ReportToReview]) -> Notice:
    """To an admin, at most once an interval: how many reports came, how many wait for a decision, and the
    oldest waiting ones with a row of actions each. The sender stays hidden, even here."""
    lines = [texts.text("report_digest", language, count=new_reports, waiting=waiting)]
    buttons: list[list[Button]] = []
    for number, report in enumerate(oldest, start=1):
        text = without_bidi_controls(report.text)
        if len(text) > REPORT_TEXT_CHARS:
            text = text[:REPORT_TEXT_CHARS] + "…"
        reason = without_bidi_controls(report.reason) or texts.text("report_no_reason", language)
        item = texts.text(
            "report_item",
            language,
            number=number,
            message_id=report.message_id,
            recipient_id=report.recipient_id,
            reason=reason,
            text=text,
        )
        lines.append(item)
        buttons.append(
            [
                Button(f"{number}. {texts.text('ban_sender', language)}", callback_data=f"ban:{report.key}"),
                Button(f"{number}. {texts.text('block_sender', language)}", callback_data=f"blk:{report.key}"),
                Button(f"{number}. {texts.text('dismiss', language)}", callback_data=f"ok:{report.key}"),
            ]
        )
    return Notice(admin_id, "\n\n".join(lines), buttons)


def support_request(admin_id: int, user_id: int, language: str, text: str, payments: list[Payment]) -> Notice:
    """To an admin: a payment problem, from a buyer who chose to write to support (not an anonymous sender)."""
    lines = [
        f"🧾 /paysupport from user {user_id} ({language}):",
        without_bidi_controls(text)[:1000],
        "",
        "Recent payments:",
    ]
    lines += [f"• {p.product} {p.amount} ⭐ {p.status.value} — /refund {p.charge_id}" for p in payments[:5]] or [
        "• none"
    ]
    return Notice(admin_id, "\n".join(lines))


# Why a payment was refunded automatically, by its ledger flag (`murmur.orders`); any other flag: "no_match".
REFUND_REASONS = (
    "duplicate_subscription",
    "pro_includes_plus",
    "already_unlocked",
    "no_hints_left",
    "target_gone",
    "message_refused",
)


def auto_refunded(buyer_id: int, language: str | None, stars: int, flag: str) -> Notice:
    """To a buyer whose payment granted nothing: it was refunded (sent only once it is), and why."""
    reason = texts.text(f"refund_reason_{flag if flag in REFUND_REASONS else 'no_match'}", language)
    return Notice(buyer_id, texts.text("auto_refunded", language, stars=stars, reason=reason))


def pro_payment_failed(webapp_url: str, user_id: int, language: str, until: str) -> Notice:
    """Telegram could not charge a Pro renewal: Pro ends at the paid period's end; subscribing again is a tap."""
    resubscribe = Button(texts.text("resubscribe", language), web_app_url=app_url(webapp_url, "/plans"))
    return Notice(user_id, texts.text("pro_payment_failed", language, until=until), [[resubscribe]])


def gift_delivered(buyer_id: int, language: str | None, emoji: str) -> Notice:
    """To a sender: the real Telegram gift they paid for reached the recipient, from the bot."""
    return Notice(buyer_id, texts.text("gift_delivered", language, emoji=emoji))


# Why a paid real gift was not delivered (`murmur.gift_delivery`): its message is gone, the bot could not pay for it,
# or Telegram did not send it.
GIFT_REFUND_REASONS = ("target_gone", "gift_unaffordable", "gift_not_sent")


def gift_refunded(buyer_id: int, language: str | None, emoji: str, stars: int, reason: str) -> Notice:
    """To a sender whose real gift could not be delivered: its Stars are back (sent only once they are), and why."""
    why = texts.text(f"refund_reason_{reason if reason in GIFT_REFUND_REASONS else 'gift_not_sent'}", language)
    return Notice(buyer_id, texts.text("gift_refunded", language, emoji=emoji, stars=stars, reason=why))
