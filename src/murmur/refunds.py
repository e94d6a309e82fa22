"""Automatic refunds: a payment that granted nothing is given back, exactly once, and the buyer is told.

`Orders` records such a payment flagged and, in the same transaction, owes its refund in the outbox
(`OutboxRepository.owe_refund_op`, one item per charge). `murmur.delivery` holds that item while it refunds
(`AutomaticRefunds.refund`) and sends the notice only after: at once from the webhook that recorded the payment,
or from a later cron run if that failed (Telegram or storage, at any step). Every step may run again safely:
a cancelled subscription is cancelled again, Telegram refunds a charge once (a second refundStarPayment answers
CHARGE_ALREADY_REFUNDED, taken here as done) and the ledger marks it refunded once."""

from __future__ import annotations

import logging

from murmur.errors import NotFoundError, TelegramRefusedError
from murmur.models import PaymentStatus
from murmur.orders import Orders
from murmur.ports import StarPayments
from murmur.store.repositories import Repositories

log = logging.getLogger(__name__)


class AutomaticRefunds:
    def __init__(self, repos: Repositories, orders: Orders, gateway: StarPayments) -> None:
        self.repos = repos
        self.orders = orders
        self.gateway = gateway

    def refund(self, buyer_id: int, charge_id: str) -> None:
        """Give `buyer_id` back the Stars of `charge_id`, a payment that granted nothing; a subscription's payment
        also stops its subscription first (or Telegram would charge, and we refund, every month). Raises
        TelegramUnavailableError (and storage errors) when a later try may succeed, TelegramRefusedError when
        Telegram will not refund it."""
        payment = self.repos.payments.get(charge_id)
        if payment is None:
            raise NotFoundError("no payment with this charge id")
        if payment.subscription_charge_id:
            self._cancel(buyer_id, payment.subscription_charge_id)
        if payment.status is PaymentStatus.REFUNDED:
            return  # by an earlier try, an admin, or Telegram's support (refunded_payment)
        try:
            self.gateway.refund_star_payment(buyer_id, charge_id)
        except TelegramRefusedError as exc:
            if "CHARGE_ALREADY_REFUNDED" not in exc.message.upper():
                raise
        self.orders.refund(charge_id)

    def _cancel(self, buyer_id: int, subscription: str) -> None:
        try:
            self.gateway.edit_star_subscription(buyer_id, subscription, True)
        except TelegramRefusedError as exc:  # ended or unknown to Telegram: it charges no more either way
            log.warning("subscription not cancelled before its refund: %s", exc.message[:80])
