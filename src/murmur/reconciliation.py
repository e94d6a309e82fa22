"""Reconcile Telegram's Stars ledger (getStarTransactions, chronological, paged by offset) with ours.

An incoming payment with no Payment row (a lost successful_payment) is fulfilled from its payload; an
outgoing refund whose Payment is still "paid" is applied. The offset is stored, so each run reads only
what is new, bounded by `max_pages`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from murmur.errors import MurmurError
from murmur.orders import Orders, Outcome, SuccessfulPayment
from murmur.store.repositories import Repositories
from murmur.telegram.gateway import BotGateway

log = logging.getLogger(__name__)
CURSOR = "stars-offset"
PAGE = 100


@dataclass(slots=True)
class Reconciled:
    seen: int = 0
    repaired: list[str] = field(default_factory=list)  # charge ids fulfilled late
    refunds_applied: list[str] = field(default_factory=list)
    pages: int = 0
    affiliate_stars: int = 0
    affiliate_transactions: int = 0


def reconcile(repos: Repositories, orders: Orders, gateway: BotGateway, max_pages: int = 5) -> Reconciled:
    result = Reconciled()
    offset = int(repos.state.cursor(CURSOR) or 0)
    for _ in range(max_pages):
        page = gateway.star_transactions(offset, PAGE)
        result.pages += 1
        affiliated = [tx.affiliate_stars for tx in page if tx.affiliate_stars]
        for tx in page:
            result.seen += 1
            if tx.user_id is None:
                continue
            payment = repos.payments.get(tx.id)
            if tx.incoming and payment is None and tx.payload:
                fulfilment = orders.fulfil(
                    SuccessfulPayment(
                        payer_id=tx.user_id,
                        currency="XTR",
                        total_amount=tx.amount,
                        payload=tx.payload,
                        charge_id=tx.id,
                        is_recurring=tx.subscription_period is not None,
                        is_first_recurring=tx.subscription_period is not None,
                    )
                )
                if fulfilment.outcome is not Outcome.DUPLICATE:
                    result.repaired.append(tx.id)
            elif not tx.incoming and payment is not None and payment.status.value == "paid":
                try:
                    orders.refund(tx.id)
                    result.refunds_applied.append(tx.id)
                except MurmurError as exc:
                    log.warning("refund not applied in reconciliation: %s", exc.code)
        if not page:
            break  # nothing new: the stored offset stays as it is (no write)
        offset += len(page)
        if affiliated:
            # Counted just before the cursor moves past the page: a crash in between counts one page twice
            # at most, which is why /stats calls these commissions "seen".
            repos.state.add_affiliate(sum(affiliated), len(affiliated))
            result.affiliate_stars += sum(affiliated)
            result.affiliate_transactions += len(affiliated)
        repos.state.set_cursor(CURSOR, str(offset))
        if len(page) < PAGE:
            break
    if result.repaired or result.refunds_applied:
        log.warning(
            "reconciliation repaired %d payments, applied %d refunds", len(result.repaired), len(result.refunds_applied)
        )
    return result
