"""Reconcile Telegram's Stars ledger (getStarTransactions, chronological, paged by offset) with ours.

An incoming payment with no Payment row (a lost successful_payment) is fulfilled from its payload, as that
update would have been: a subscription payment is a renewal when its order already holds another charge
(Telegram's ledger does not say which), and runs until its date plus the period. An outgoing refund whose
Payment is still "paid" is applied, also when that payment was only recorded earlier in the same page. Each
page's revenue (by product, net of refunds, and the affiliate commissions Telegram reports) and the Stars the bot
spent on real Telegram gifts (`gift_spend_*`) are added to the /stats summary in the same transaction that moves
the stored offset past the page, on condition that the offset is still where this run read it: every transaction
is counted exactly once, even if two runs overlap or one dies half-way. A failure a retry can mend (storage,
Telegram) propagates before that transaction: the offset stays and the next run settles the page again, which
repeats nothing (the ledger rows and the refunds are exactly-once by themselves). Each run reads only what is new,
bounded by `max_pages`; one batch read per page finds the page's payments, plus one order read per lost
subscription payment."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from murmur.errors import ConflictError, NotFoundError
from murmur.models import Payment, PaymentStatus
from murmur.orders import Orders, Outcome, SuccessfulPayment
from murmur.ports import StarPayments, StarTransaction
from murmur.store.repositories import Repositories

log = logging.getLogger(__name__)
CURSOR = "stars-offset"
PAGE = 100  # getStarTransactions' maximum, and BatchGetItem's: one batch read per page
UNMATCHED = "unmatched"  # Stars that bought nothing we could grant (flagged payments), or not ours


@dataclass(slots=True)
class Reconciled:
    seen: int = 0
    repaired: list[str] = field(default_factory=list)  # charge ids fulfilled late: granted or renewed
    flagged: list[str] = field(default_factory=list)  # charge ids recorded late that granted nothing
    refunds_applied: list[str] = field(default_factory=list)
    pages: int = 0
    affiliate_stars: int = 0
    affiliate_transactions: int = 0
    revenue: Counter[str] = field(default_factory=Counter)  # what this run added to the summary
    announce_to: list[int] = field(default_factory=list)  # owners of messages stored late with their gift (ADR 0011)


def _revenue_key(payment: Payment | None) -> str:
    return payment.product if payment is not None and not payment.flag else UNMATCHED


def reconcile_from(
    seen_cursor: str | None, repos: Repositories, orders: Orders, gateway: StarPayments, max_pages: int = 5
) -> Reconciled:
    """From the stored offset as the caller read it (`repos.state.cursor_ref(CURSOR)`, None if unset)."""
    result = Reconciled()
    offset = int(seen_cursor or 0)
    for _ in range(max_pages):
        page = gateway.star_transactions(offset, PAGE)
        result.pages += 1
        if not page:
            break  # nothing new: the stored offset stays as it is (no write)
        totals = _settle(repos, orders, page, result)
        new_offset = str(offset + len(page))
        advance = repos.state.advance_cursor_op(CURSOR, seen_cursor, new_offset)
        try:
            if totals:
                repos.tx.write([repos.state.add_ledger_page_op(dict(totals)), advance])
            else:
                repos.tx.write_one(advance)
        except ConflictError:
            log.warning("another run moved the Stars offset; this run stops")
            break
        result.revenue.update(totals)
        result.affiliate_stars += totals.get("affiliate_stars", 0)
        result.affiliate_transactions += totals.get("affiliate_transactions", 0)
        seen_cursor, offset = new_offset, int(new_offset)
        if len(page) < PAGE:
            break
    if result.repaired or result.flagged or result.refunds_applied:
        log.warning(
            "reconciliation repaired %d payments, flagged %d, applied %d refunds",
            len(result.repaired),
            len(result.flagged),
            len(result.refunds_applied),
        )
    return result


def _settle(repos: Repositories, orders: Orders, page: list[StarTransaction], result: Reconciled) -> Counter[str]:
    """Repair what our ledger lacks and return the page's revenue totals (nothing written for them yet).
    Storage and Telegram failures propagate: the caller has not moved the offset yet."""
    totals: Counter[str] = Counter()
    # A real Telegram gift the bot sent is an outgoing transaction to its recipient: spend, not a refund.
    mine = [tx for tx in page if tx.user_id is not None and not tx.is_gift_purchase]
    found = repos.batch.get([repos.payments.ref(tx.id) for tx in mine], consistent=True) if mine else []
    # The page's payments as this run knows them: a refund later in the page sees a payment recorded earlier in it.
    ledger: dict[str, Payment | None] = dict(zip((tx.id for tx in mine), found, strict=True))
    result.seen += len(page)
    for tx in mine:
        payment = ledger[tx.id]
        if tx.incoming:
            if payment is None and tx.payload:
                payment = ledger[tx.id] = _fulfil_late(repos, orders, tx, result)
            key = _revenue_key(payment)
            totals[f"stars_{key}"] += tx.amount
            totals[f"count_{key}"] += 1
        else:
            if payment is not None and payment.status is PaymentStatus.PAID and _refund_late(orders, tx):
                result.refunds_applied.append(tx.id)
            totals[f"stars_{_revenue_key(payment)}"] -= tx.amount
            totals[f"count_{_revenue_key(payment)}"] -= 1
    for tx in page:
        if tx.is_gift_purchase:
            totals["gift_spend_stars"] += tx.amount
            totals["gift_spend_count"] += 1
        if tx.affiliate_stars:
            totals["affiliate_stars"] += tx.affiliate_stars
            totals["affiliate_transactions"] += 1
    return Counter({k: v for k, v in totals.items() if v})


def _fulfil_late(repos: Repositories, orders: Orders, tx: StarTransaction, result: Reconciled) -> Payment | None:
    """Fulfil a payment whose successful_payment never arrived; the ledger row it left (None if none)."""
    fulfilment = orders.fulfil(_successful_payment(repos, tx))
    if fulfilment.outcome in (Outcome.GRANTED, Outcome.RENEWED):
        result.repaired.append(tx.id)
        if fulfilment.announce_to is not None:
            result.announce_to.append(fulfilment.announce_to)
    elif fulfilment.outcome is not Outcome.DUPLICATE:
        result.flagged.append(tx.id)
    if fulfilment.payment is not None:
        return fulfilment.payment
    return repos.payments.get(tx.id)  # recorded meanwhile by the webhook: count it as that row says


def _successful_payment(repos: Repositories, tx: StarTransaction) -> SuccessfulPayment:
    """The successful_payment Telegram would have sent for `tx`. Its ledger entry carries the payload and the
    subscription_period for a first payment and a renewal alike; the order tells them apart: a renewal is
    charged for an order that already holds another charge (the subscription's first one)."""
    period = tx.subscription_period
    renewal = False
    if period is not None and tx.payload:
        order = repos.orders.get(tx.payload, consistent=True)
        renewal = order is not None and order.charge_id is not None and order.charge_id != tx.id
    return SuccessfulPayment(
        payer_id=tx.user_id or 0,
        currency="XTR",
        total_amount=tx.amount,
        payload=tx.payload or "",
        charge_id=tx.id,
        is_recurring=period is not None,
        is_first_recurring=period is not None and not renewal,
        # What Telegram's update says: the subscription runs one period from this charge.
        subscription_expiration_date=tx.date + period if period is not None else None,
    )


def _refund_late(orders: Orders, tx: StarTransaction) -> bool:
    """Apply a refund Telegram made (exactly once by itself); whether this call applied it. Only an outcome
    that is final is passed over (refunded already, or the charge erased meanwhile); anything a retry can mend
    propagates, so the next run settles the page again."""
    try:
        return orders.refund(tx.id).outcome is not Outcome.DUPLICATE
    except NotFoundError:
        log.warning("refund of a payment no longer in the ledger")
        return False
