"""Delivering a paid real Telegram gift exactly once, or giving its Stars back exactly once.

The payment and the gift it owes are one transaction (`Orders.fulfil` writes the payment row and, through
`GiftOutboxRepository.owe_op`, the owed gift in the outbox). Whoever holds the owed gift delivers it: the webhook
that recorded the payment at once, or a cron run once that hold has run out (`murmur.delivery` hands it here).

sendGift has no idempotency key: a second call after a lost answer would send, and pay for, a second gift. So
`attempted_at` is written (conditionally, under the hold) before the one call, and from then on nobody calls it
again for this gift:
- the call succeeded: the gift is settled, and shown on the message;
- Telegram refused it (400/403: the bot's balance ran out, the gift sold out, the user cannot get it): refunded;
- Telegram turned it away unprocessed (429): it was not sent, so it may be sent later, as if never tried;
- the answer was lost (a timeout, a 5xx, the holder stopped): unknown. After CONFIRM_AFTER_SECONDS, when Telegram
  has long finished whatever it did, the Stars ledger decides: the bot's own transactions since the call
  (getStarTransactions, from the offset read before it) show the gift's purchase if it was sent. Found: settled as
  sent (that purchase claimed, so it never settles a second gift); not found: refunded, never sent again.

A refund is decided first (kept on the item), then made (`murmur.refunds.AutomaticRefunds`: refundStarPayment once,
the ledger marked once), then the sender is told, then the item settled: a failure at any step is retried by a
later run, which repeats nothing Telegram or the ledger already did."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from murmur import notices
from murmur.clock import Clock
from murmur.delivery import KEEP_SECONDS, MAX_ATTEMPTS, Delivery, RefundOwed, retry_delay
from murmur.errors import (
    ConflictError,
    TelegramRateLimitedError,
    TelegramRefusedError,
    TelegramUnavailableError,
)
from murmur.models import OwedGift, OwedNotice
from murmur.ports import GiftSender, StarTransaction
from murmur.real_gifts import gift_text
from murmur.reconciliation import CURSOR as STARS_CURSOR
from murmur.reconciliation import PAGE
from murmur.store.dynamo import Op
from murmur.store.repositories import Repositories

log = logging.getLogger(__name__)

# After a sendGift whose answer was lost, how long to wait before the Stars ledger is taken as the truth: Telegram
# answers within seconds, and a cron run comes every few minutes anyway.
CONFIRM_AFTER_SECONDS = 300
# How far back of the call a gift's purchase may be dated (Telegram's clock against ours).
CLOCK_SKEW_SECONDS = 60
# How many pages of the Stars ledger a confirmation reads at most (from the offset before the call): far more than
# a few minutes of a bot's transactions.
LEDGER_PAGES = 10


class HoldLostError(ConflictError):
    """Another run holds the gift now (this one's hold ran out): it decides."""

    code = "gift_hold_lost"


class SpendTakenError(ConflictError):
    """This gift purchase in the ledger was taken as the spend of another gift."""

    code = "gift_spend_taken"


class MessageGoneError(ConflictError):
    """The message the gift was for is gone (its recipient erased their account)."""

    code = "gift_message_gone"


def refusal_reason(failure: TelegramRefusedError) -> str:
    """Why Telegram refused a sendGift, as the sender is told it."""
    return "gift_unaffordable" if "BALANCE_TOO_LOW" in failure.message.upper() else "gift_not_sent"


class GiftDeliveries:
    def __init__(
        self,
        repos: Repositories,
        telegram: GiftSender,
        clock: Clock,
        refund: RefundOwed,
        tell: Callable[[notices.Notice], Delivery],
    ) -> None:
        self.repos = repos
        self.telegram = telegram
        self.clock = clock
        self.refund = refund
        self.tell = tell

    def deliver(self, held: OwedNotice) -> Delivery:
        """The owed gift `held` names, which this caller holds: sent, confirmed, or refunded, once."""
        gift = self.repos.gift_outbox.get(held.key)
        if gift is None or gift.held_until != held.due_at:
            return Delivery.TAKEN  # settled already, or another run holds it now
        now = int(self.clock.now())
        if gift.refund_reason:
            return self._refund(gift, gift.refund_reason, now)
        if gift.attempted_at:
            return self._confirm(gift, now)
        if held.attempts > MAX_ATTEMPTS or held.expires_at <= now:
            return self._refund(gift, "gift_not_sent", now)
        return self._send(gift, now)

    def _send(self, gift: OwedGift, now: int) -> Delivery:
        messages, users, state = self.repos.messages, self.repos.users, self.repos.state
        message, recipient, offset = self.repos.batch.get(
            [
                messages.ref(gift.recipient_id, gift.message_id),
                users.ref(gift.recipient_id),
                state.cursor_ref(STARS_CURSOR),
            ],
            consistent=True,
        )
        if message is None or recipient is None or recipient.erasing:
            return self._refund(gift, "target_gone", now)
        if not self.repos.gift_outbox.mark_attempted(gift, now, int(offset or 0)):
            return Delivery.TAKEN
        try:
            self.telegram.send_gift(gift.recipient_id, gift.gift.gift_id, gift_text(message.text))
        except TelegramRateLimitedError as exc:
            self.repos.gift_outbox.not_attempted(gift, now + max(1, exc.retry_after))
            return Delivery.OWED
        except TelegramUnavailableError as exc:
            log.warning("gift sent or not, unknown until the Stars ledger says: %s", exc.code)
            self.repos.gift_outbox.postpone(gift, now + CONFIRM_AFTER_SECONDS)
            return Delivery.OWED
        except TelegramRefusedError as exc:
            log.warning("gift refused by Telegram: %s", exc.message[:80])
            return self._refund(gift, refusal_reason(exc), now)
        return self._delivered(gift, now, None)

    def _confirm(self, gift: OwedGift, now: int) -> Delivery:
        """An attempt whose answer was lost: the ledger says whether it was sent, once Telegram is surely done."""
        confirm_at = gift.attempted_at + CONFIRM_AFTER_SECONDS
        if now < confirm_at:
            self.repos.gift_outbox.postpone(gift, confirm_at)
            return Delivery.LATER
        try:
            spends = self._spends(gift)
        except TelegramUnavailableError as exc:
            self.repos.gift_outbox.postpone(gift, now + retry_delay(exc, 1))
            return Delivery.OWED
        for spend in spends:
            try:
                return self._delivered(gift, now, spend.id)
            except SpendTakenError:
                continue
        log.warning("an unconfirmed gift is not in the Stars ledger: refunded")
        return self._refund(gift, "gift_not_sent", now)

    def _spends(self, gift: OwedGift) -> list[StarTransaction]:
        """The bot's purchases of this gift for this recipient since the call, oldest first."""
        found: list[StarTransaction] = []
        offset = gift.ledger_from
        for _ in range(LEDGER_PAGES):
            page = self.telegram.star_transactions(offset, PAGE)
            found += [
                tx
                for tx in page
                if tx.is_gift_purchase
                and tx.user_id == gift.recipient_id
                and tx.gift_id == gift.gift.gift_id
                and tx.date >= gift.attempted_at - CLOCK_SKEW_SECONDS
            ]
            offset += len(page)
            if len(page) < PAGE:
                break
        return found

    def _delivered(self, gift: OwedGift, now: int, spend: str | None) -> Delivery:
        """Settle a sent gift and show it on its message (which its text reveals: the message is unlocked too). A
        message erased meanwhile changes nothing: the gift reached its recipient all the same."""
        settle: list[Op] = [self.repos.gift_outbox.settle_op(gift, now).failing_with(HoldLostError)]
        if spend is not None:
            settle.append(
                self.repos.gift_outbox.claim_spend_op(spend, now + KEEP_SECONDS).failing_with(SpendTakenError)
            )
        shown = self.repos.messages.show_telegram_gift_op(
            gift.recipient_id, gift.message_id, gift.charge_id, gift.gift.badge
        )
        try:
            try:
                self.repos.tx.write([*settle, shown.failing_with(MessageGoneError)])
            except MessageGoneError:
                self.repos.tx.write(settle)
        except HoldLostError:
            return Delivery.TAKEN
        self._say(notices.gift_delivered(gift.buyer_id, gift.language, gift.gift.emoji))
        return Delivery.SENT

    def _refund(self, gift: OwedGift, reason: str, now: int) -> Delivery:
        """Give the sender their Stars back, and tell them. The decision is kept first: no later run sends it."""
        if gift.refund_reason != reason:
            self.repos.gift_outbox.postpone(gift, gift.held_until, refund_reason=reason)
        try:
            self.refund(gift.buyer_id, gift.charge_id)
        except TelegramUnavailableError as exc:
            self.repos.gift_outbox.postpone(gift, now + retry_delay(exc, 1), refund_reason=reason)
            return Delivery.OWED
        except TelegramRefusedError as exc:  # a retry would be refused too: the payment is support's now
            log.error("refund of an undelivered gift refused by Telegram: %s", exc.message[:80])
            self._settle(gift, now)
            return Delivery.REFUSED
        payment = self.repos.payments.get(gift.charge_id)
        stars = payment.amount if payment is not None else 0
        self._say(notices.gift_refunded(gift.buyer_id, gift.language, gift.gift.emoji, stars, reason))
        self._settle(gift, now)
        return Delivery.REFUSED

    def _settle(self, gift: OwedGift, now: int) -> None:
        with contextlib.suppress(HoldLostError):  # another run holds it now, and finds it refunded
            self.repos.tx.write([self.repos.gift_outbox.settle_op(gift, now).failing_with(HoldLostError)])

    def _say(self, notice: notices.Notice) -> None:
        """Tell the sender, now or from the outbox; a notice lost to storage never undoes the gift or refund."""
        try:
            self.tell(notice)
        except Exception as exc:
            log.warning("gift notice not kept: %s", type(exc).__name__)
