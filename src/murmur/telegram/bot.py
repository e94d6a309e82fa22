"""The bot: one PTB Application per container, with module-level callbacks registered in one place.

Callbacks are thin: each calls one domain function through the Services in `bot_data` and says the result.
A callback that fails on storage re-raises; the webhook turns that into a 5xx so Telegram retries."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)

from murmur import links, notices, texts
from murmur.catalog import PRODUCTS, TELEGRAM_GIFT
from murmur.errors import (
    BannedError,
    ErasingError,
    MurmurError,
    NotFoundError,
    TelegramRateLimitedError,
    TelegramRefusedError,
    TelegramUnavailableError,
)
from murmur.ids import CODE_RE
from murmur.invite_credits import CreditTotals
from murmur.models import OwedNotice, Person
from murmur.orders import Outcome, SuccessfulPayment
from murmur.privacy import FINISHES_WITHIN_MINUTES
from murmur.telegram import inline
from murmur.telegram.gateway import keyboard
from murmur.telegram.transport import PooledRequest

if TYPE_CHECKING:
    from murmur.composition import Services

log = logging.getLogger(__name__)


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    services: Services = context.bot_data["services"]
    return services


def _person(update: Update) -> Person:
    u = update.effective_user
    assert u is not None
    return Person(u.id, u.first_name, u.language_code, bool(u.is_premium))


# The person who tapped or paid is waiting for this answer: a flood wait this short is waited out in the
# invocation (well inside the webhook's Timeout) rather than leaving the answer to a later cron run.
WAIT_OUT_SECONDS = 3


async def _say(context: ContextTypes.DEFAULT_TYPE, notice: notices.Notice) -> None:
    """Send through the one delivery rule: now (after a short flood wait, honouring Telegram's retry_after),
    or owed in the outbox (the cron sends it) when Telegram is busy for longer or failing. Storage failing
    to keep it raises: the webhook answers 5xx and Telegram retries."""
    for attempt in range(2):
        try:
            await context.bot.send_message(notice.chat_id, notice.text, reply_markup=keyboard(notice.buttons))
            return
        except TelegramError as exc:
            failure = _failure(exc)
            if (
                attempt == 0
                and isinstance(failure, TelegramRateLimitedError)
                and failure.retry_after <= WAIT_OUT_SECONDS
            ):
                await asyncio.sleep(failure.retry_after)
                continue
            _services(context).delivery.undelivered(notice, failure)
            return


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Answer in the chat of the update (the bot's chats are private ones), through `_say`."""
    assert update.effective_chat
    await _say(context, notices.Notice(update.effective_chat.id, text))


def _failure(exc: TelegramError) -> MurmurError:
    """PTB's error for a send, as the domain names it."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after  # a timedelta with PTB_TIMEDELTA=1 (the template sets it), else seconds
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else wait
        return TelegramRateLimitedError(math.ceil(seconds), "flood control")
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # 5xx, timeouts, connection
        return TelegramUnavailableError(type(exc).__name__)
    return TelegramRefusedError(403 if isinstance(exc, Forbidden) else 400, type(exc).__name__)


def _utc(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch or 0))


# ---------------------------------------------------------------------- commands
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [code | ref_<code> | _tgr_...]: register, then show my link or the send page of a code."""
    services = _services(context)
    person = _person(update)
    param = context.args[0] if context.args else None
    try:
        user = services.inbox.ensure_user(person, param)
    except (BannedError, ErasingError) as exc:
        key = "banned" if isinstance(exc, BannedError) else "erasing"
        await _answer(update, context, texts.text(key, person.language_code, minutes=FINISHES_WITHIN_MINUTES))
        return
    webapp = services.webapp_url
    if param and CODE_RE.match(param):
        try:
            owner = services.inbox.link_owner(param)
        except MurmurError:
            owner = None
        if owner and owner.user_id != person.id:
            await _say(context, notices.write_to(webapp, person.id, user.language_code, owner.first_name, param))
            return
    link = links.personal_link(services.settings.bot_username, user.link_code)
    await _say(context, notices.welcome(webapp, person.id, user.language_code, link))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what Murmur is and what it costs."""
    assert update.effective_message
    await _answer(update, context, texts.text("help", _person(update).language_code))


async def paysupport(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/paysupport [what happened]: how refunds work; with a text, the request goes to the admins along
    with the person's recent payments, so a /refund is one tap away. Required by Telegram for digital goods."""
    message = update.effective_message
    assert message
    person = _person(update)
    if not context.args:
        await _answer(update, context, texts.text("paysupport", person.language_code))
        return
    services = _services(context)
    for notice in services.moderation.support_request(person, " ".join(context.args)):
        await _say(context, notice)
    await _answer(update, context, texts.text("support_sent", person.language_code))


async def fallback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text ("привет") or a command the bot does not know: the short help with the button into the app.
    Registered last, so every command, payment and admin handler is tried first; support requests are
    `/paysupport <text>`, never free text, so none is answered here."""
    person = _person(update)
    await _say(context, notices.fallback(_services(context).webapp_url, person.id, person.language_code))


async def terms(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/terms: terms, the anonymity model, refunds."""
    assert update.effective_message
    await _answer(update, context, texts.text("terms", _person(update).language_code))


# Of the webhook's 10 s, what /deleteme spends erasing; what does not fit, the cron finishes within minutes.
ERASE_SECONDS = 5.0


async def deleteme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deleteme: erase my data, or begin to and say when it will be done."""
    assert update.effective_message
    services = _services(context)
    person = _person(update)
    try:
        erased = services.erasures.erase(person.id, ERASE_SECONDS)
    except TelegramUnavailableError:  # a running Pro subscription could not be cancelled: nothing erased yet
        await _answer(update, context, texts.text("erase_later", person.language_code))
        return
    key = "deleted" if erased.done else "erasing"
    # Not through the outbox: after erasure nothing may keep this chat, not even an owed "done".
    await update.effective_message.reply_text(texts.text(key, person.language_code, minutes=FINISHES_WITHIN_MINUTES))


async def refund(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/refund <charge id> (admins): give the Stars back and revoke what was bought."""
    services = _services(context)
    message = update.effective_message
    assert message
    if not context.args:
        await _answer(update, context, "Usage: /refund <telegram_payment_charge_id>")
        return
    charge_id = context.args[0][:200]
    try:
        payment = services.orders.refundable(charge_id)
        if payment is None:
            await _answer(update, context, "Already refunded.")
            return
        try:
            await context.bot.refund_star_payment(payment.user_id, charge_id)
        except BadRequest as exc:  # refunded by Telegram already: record it below all the same
            if "ALREADY_REFUNDED" not in str(exc).upper():
                await _answer(update, context, f"Telegram refused the refund: {exc.message}")
                return
        result = services.orders.refund(charge_id)
        services.metrics.count("RefundsIssued")
    except MurmurError as exc:
        await _answer(update, context, f"Not refunded: {exc.message}")
        return
    revoked = ", ".join(result.revoked) or "nothing to revoke"
    await _answer(update, context, f"Refunded {result.payment.amount if result.payment else 0} ⭐ ({revoked}).")


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): Stars revenue by product (net of refunds) and affiliate commissions, from Telegram's
    own ledger as the cron last reconciled it (every few minutes); invite credits earned and spent (exact)."""
    message = update.effective_message
    assert message
    totals = _services(context).admin_stats.totals()
    await _answer(update, context, f"{revenue_report(totals.revenue)}\n{invite_report(totals.invites)}")


def invite_report(totals: CreditTotals) -> str:
    return (
        f"Invite credits: {totals.earned} earned, {totals.spent} spent on unlocks, "
        f"{totals.refused} referrals past the limits (no credit)"
    )


def revenue_report(totals: dict[str, int]) -> str:
    lines = ["Revenue (Stars, net of refunds, per Telegram's ledger as of the last reconciliation):"]
    for product in [*PRODUCTS, TELEGRAM_GIFT.id, "unmatched"]:
        stars, count = totals.get(f"stars_{product}", 0), totals.get(f"count_{product}", 0)
        if stars or count:
            lines.append(f"• {product}: {stars} ⭐ from {count} payments")
    total = sum(v for k, v in totals.items() if k.startswith("stars_"))
    lines.append(f"Total: {total} ⭐")
    spent = totals.get("gift_spend_stars", 0)  # real Telegram gifts the bot sent from its balance (sendGift)
    lines.append(
        f"Spent on Telegram gifts: {spent} ⭐ for {totals.get('gift_spend_count', 0)} gifts"
        f" (total after gifts: {total - spent} ⭐)"
    )
    lines.append(
        f"Affiliate commissions seen: {totals.get('affiliate_stars', 0)} ⭐ "
        f"on {totals.get('affiliate_transactions', 0)} transactions (paid by Telegram)"
    )
    return "\n".join(lines)


async def ban(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ban <user id> and /unban <user id> (admins)."""
    services = _services(context)
    message = update.effective_message
    assert message and message.text
    if not context.args or not context.args[0].isdigit() or len(context.args[0]) > 19:
        await _answer(update, context, "Usage: /ban <user id> or /unban <user id>")
        return
    banned = message.text.startswith("/ban")
    # Kept under a keyed hash of the id, so erasing the account does not lift it; an id the app never saw gets
    # the record only, no account.
    services.moderation.ban(int(context.args[0]), banned)
    await _answer(update, context, "Banned." if banned else "Unbanned.")


async def report_action(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's button under a report: ban the sender, block them for the recipient, or dismiss."""
    query = update.callback_query
    assert query and query.data
    services = _services(context)
    if not services.moderation.is_admin(query.from_user.id):
        await query.answer("Admins only.", show_alert=True)
        return
    action, _, key = query.data.partition(":")
    try:
        if action == "ban":
            services.moderation.ban_sender_of(key)
        elif action == "blk":
            services.moderation.block_for_recipient(key)
        services.moderation.reviewed(key)
    except MurmurError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    done = {"ban": "Sender banned.", "blk": "Blocked for the recipient.", "ok": "Dismissed."}.get(action, "?")
    await query.answer(done)
    # A digest lists several reports, a row of buttons each: only this report's row goes.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    rows = [
        row
        for row in (markup.inline_keyboard if markup else ())
        if not any(str(button.callback_data or "").endswith(f":{key}") for button in row)
    ]
    await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)


# ---------------------------------------------------------------------- payments
async def pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept only a pending, unexpired order of this payer with the right currency, amount and target."""
    query = update.pre_checkout_query
    assert query
    services = _services(context)
    rejection = services.orders.pre_checkout(
        query.from_user.id, query.invoice_payload, query.currency, query.total_amount
    )
    reason = rejection.value if rejection else ""
    if not reason:
        await query.answer(ok=True)
        return
    log.info("pre-checkout rejected: %s", reason)
    services.metrics.count_by("PaymentRejected", "reason", reason)
    await query.answer(ok=False, error_message=texts.text(f"reject_{reason}", query.from_user.language_code))


async def successful_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fulfil exactly once, then confirm to the buyer. Storage errors propagate (5xx, Telegram retries)."""
    message = update.effective_message
    assert message and message.successful_payment and message.from_user
    sp = message.successful_payment
    services = _services(context)
    expiration = sp.subscription_expiration_date
    result = services.orders.fulfil(
        SuccessfulPayment(
            payer_id=message.from_user.id,
            currency=sp.currency,
            total_amount=sp.total_amount,
            payload=sp.invoice_payload,
            charge_id=sp.telegram_payment_charge_id,
            is_recurring=bool(sp.is_recurring),
            is_first_recurring=bool(sp.is_first_recurring),
            subscription_expiration_date=int(expiration.timestamp()) if expiration else None,
            language_code=message.from_user.language_code,
        )
    )
    if result.outcome is Outcome.DUPLICATE:
        return
    if result.outcome is Outcome.FLAGGED:
        services.metrics.count("FulfilmentFailed")
        if result.owed is not None:
            _refund_now(services, result.owed)  # the buyer hears of it once the Stars are back
        return
    services.metrics.count_by("StarsEarned", "product", result.product or "unknown", sp.total_amount)
    if result.announce_to is not None:  # the message that waited for this gift's payment is stored now
        services.metrics.count("MessagesSent")
        _announce(services, result.announce_to)
    if result.product == "unlock":
        services.metrics.count("MessagesUnlocked")
    lang = message.from_user.language_code
    if result.outcome is Outcome.RENEWED:
        key = "paid_renewed"
    elif result.product in PRODUCTS and PRODUCTS[result.product].gift:
        key = "paid_gift"
    else:
        key = f"paid_{result.product}"
    await _answer(update, context, texts.text(key, lang, stars=sp.total_amount, until=_utc(result.plan_expires_at)))
    if result.owed is not None:  # a real Telegram gift: sent now, after the buyer was told it is on its way
        _send_gift_now(services, result.owed)


def _send_gift_now(services: Services, owed: OwedNotice) -> None:
    """The real gift a payment owes, while this invocation holds it (`murmur.gift_delivery`). Whatever fails here,
    the gift stays owed and a cron run goes on with it once the hold ends (never sending it twice): Telegram need
    not redeliver the update, whose redelivery would find the payment and stop."""
    try:
        services.delivery.deliver_held(owed)
    except Exception as exc:
        log.warning("gift delivery left to the cron: %s", type(exc).__name__)


def _announce(services: Services, owner_id: int) -> None:
    """A message that waited for its gift's payment is in the owner's inbox now: the cron tells them (ADR 0011). A
    failure is logged, not retried: Telegram's redelivery would find the payment and stop, and the owner's next
    message or visit shows it."""
    try:
        services.delivery.announce(owner_id)
    except Exception as exc:
        log.warning("new-message announcement failed: %s", type(exc).__name__)


def _refund_now(services: Services, owed: OwedNotice) -> None:
    """The refund a payment that granted nothing is owed, and the notice saying so, while this invocation holds
    it. The payment is recorded and the refund kept in the outbox: whatever fails here, a cron run retries once
    the hold ends, so Telegram need not redeliver the update (its redelivery would find the payment and stop)."""
    try:
        services.delivery.deliver_held(owed)
    except Exception as exc:
        log.warning("automatic refund left to the cron: %s", type(exc).__name__)


async def refunded_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram refunded a payment (e.g. by support): revoke what was bought, once. A failure a retry can mend
    propagates (5xx: Telegram redelivers). Only a charge we never recorded is acknowledged: its payment update
    was lost too, and reconciliation applies both from getStarTransactions."""
    message = update.effective_message
    assert message and message.refunded_payment
    rp = message.refunded_payment
    services = _services(context)
    try:
        result = services.orders.refund(rp.telegram_payment_charge_id)
    except NotFoundError:
        log.warning("refunded_payment for a charge not in the ledger yet; reconciliation will apply it")
        return
    if result.outcome is not Outcome.DUPLICATE:
        services.metrics.count("RefundsIssued")
    if result.outcome is not Outcome.DUPLICATE and message.from_user:
        await _answer(update, context, texts.text("refunded", message.from_user.language_code, stars=rp.total_amount))


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """Bot API 10.2's BotSubscriptionUpdated: a user's subscription to the bot was cancelled ("canceled"),
    re-enabled ("active"), or its payment failed ("failed")."""

    user_id: int
    invoice_payload: str
    state: str


def subscription_change(update: Update) -> SubscriptionChange | None:
    """The update's `subscription`, if it has one. PTB 22.8 predates Bot API 10.2 and keeps fields it does not
    know in `api_kwargs`: this is the one place that reads it (drop it for PTB's own type once PTB has one)."""
    raw = update.api_kwargs.get("subscription")
    if not isinstance(raw, dict):
        return None
    user, payload, state = raw.get("user"), raw.get("invoice_payload"), raw.get("state")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or not isinstance(payload, str):
        return None
    return SubscriptionChange(user["id"], payload, state if isinstance(state, str) else "")


class SubscriptionHandler(TypeHandler[Update, ContextTypes.DEFAULT_TYPE, None]):
    """Routes updates that carry a `subscription` (`subscription_change`) to its callback."""

    def __init__(self, callback: Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]) -> None:
        super().__init__(Update, callback)

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update) and subscription_change(update) is not None


async def subscription_updated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram's word on a Pro subscription: Pro follows it; a failed payment is told, with a way back."""
    change = subscription_change(update)
    assert change
    services = _services(context)
    user = services.orders.subscription_changed(change.user_id, change.invoice_payload, change.state)
    if user is not None and user.pro_failed:
        until = _utc(user.plan_expires_at)
        await _say(context, notices.pro_payment_failed(services.webapp_url, user.user_id, user.language_code, until))


async def chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user blocked or restarted the bot. Nothing to store: a blocked user's notifications fail softly."""
    log.info("my_chat_member: %s", update.my_chat_member.new_chat_member.status if update.my_chat_member else "?")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember the failure so the webhook answers 5xx (and Telegram retries the update)."""
    failures: list[BaseException] | None = context.bot_data.get("failures")
    if failures is not None and context.error is not None:
        failures.append(context.error)


def build_application(services: Services, token: str, base_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """Every handler, registered in one place. `updater(None)`: updates come from the webhook Lambda."""
    request = PooledRequest(services.bot_api_pool)
    builder = Application.builder().token(token).base_url(base_url).updater(None)
    app = builder.request(request).get_updates_request(request).build()
    app.bot_data["services"] = services
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("paysupport", paysupport))
    app.add_handler(CommandHandler("terms", terms))
    app.add_handler(CommandHandler("deleteme", deleteme))
    # Admin commands answer admins only; for anyone else they are not commands at all.
    admins = filters.User(user_id=sorted(services.settings.admin_ids))
    app.add_handler(CommandHandler("refund", refund, filters=admins))
    app.add_handler(CommandHandler("stats", stats, filters=admins))
    app.add_handler(CommandHandler(["ban", "unban"], ban, filters=admins))
    app.add_handler(CallbackQueryHandler(report_action, pattern=r"^(ban|blk|ok):"))
    app.add_handler(PreCheckoutQueryHandler(pre_checkout))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment))
    app.add_handler(MessageHandler(filters.StatusUpdate.REFUNDED_PAYMENT, refunded_payment))
    app.add_handler(ChatMemberHandler(chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(SubscriptionHandler(subscription_updated))
    app.add_handler(InlineQueryHandler(inline.answer_inline_query))
    # Last: whatever text no handler above took (free text, unknown commands, admin commands from non-admins).
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT, fallback))
    app.add_error_handler(on_error)
    return app
