"""Reconcile Telegram's Stars ledger (getStarTransactions, chronological, paged by offset) with ours.

An incoming payment with no Payment row (a lost successful_payment) is fulfilled from its payload; an
outgoing refund whose Payment is still "paid" is applied. Each page's revenue (by product, net of refunds,
and the affiliate commissions Telegram reports) is added to the /stats summary in the same transaction that
moves the stored offset past the page, on condition that the offset is still where this run read it: every
transaction is counted exactly once, even if two runs overlap or one dies half-way. Each run reads only what
is new, bounded by `max_pages`; one batch read per page finds the page's payments."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from murmur.errors import ConflictError, MurmurError
from murmur.models import Payment
from murmur.orders import Orders, Outcome, SuccessfulPayment
from murmur.store.repositories import Repositories
from murmur.telegram.gateway import BotGateway, StarTransaction

log = logging.getLogger(__name__)
CURSOR = "stars-offset"
PAGE = 100  # getStarTransactions' maximum, and BatchGetItem's: one batch read per page
UNMATCHED = "unmatched"  # Stars that bought nothing we could grant (flagged payments), or not ours


@dataclass(slots=True)
class Reconciled:
    seen: int = 0
    repaired: list[str] = field(default_factory=list)  # charge ids fulfilled late
    refunds_applied: list[str] = field(default_factory=list)
    pages: int = 0
    affiliate_stars: int = 0
    affiliate_transactions: int = 0
    revenue: Counter[str] = field(default_factory=Counter)  # what this run added to the summary


def _revenue_key(payment: Payment | None) -> str:
    return payment.product if payment is not None and not payment.flag else UNMATCHED


def reconcile(repos: Repositories, orders: Orders, gateway: BotGateway, max_pages: int = 5) -> Reconciled:
    return reconcile_from(repos.state.cursor(CURSOR), repos, orders, gateway, max_pages)


def reconcile_from(
    seen_cursor: str | None, repos: Repositories, orders: Orders, gateway: BotGateway, max_pages: int = 5
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
    if result.repaired or result.refunds_applied:
        log.warning(
            "reconciliation repaired %d payments, applied %d refunds", len(result.repaired), len(result.refunds_applied)
        )
    return result


def _settle(repos: Repositories, orders: Orders, page: list[StarTransaction], result: Reconciled) -> Counter[str]:
    """Repair what our ledger lacks and return the page's revenue totals (nothing written for them yet)."""
    totals: Counter[str] = Counter()
    mine = [tx for tx in page if tx.user_id is not None]
    payments = repos.batch.get([repos.payments.ref(tx.id) for tx in mine], consistent=True) if mine else []
    result.seen += len(page)
    for tx, payment in zip(mine, payments, strict=True):
        key = _revenue_key(payment)
        if tx.incoming:
            if payment is None and tx.payload:
                fulfilment = orders.fulfil(
                    SuccessfulPayment(
                        payer_id=tx.user_id or 0,
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
                key = _revenue_key(fulfilment.payment) if fulfilment.payment else fulfilment.product or UNMATCHED
            totals[f"stars_{key}"] += tx.amount
            totals[f"count_{key}"] += 1
        else:
            if payment is not None and payment.status.value == "paid":
                try:
                    orders.refund(tx.id)
                    result.refunds_applied.append(tx.id)
                except MurmurError as exc:
                    log.warning("refund not applied in reconciliation: %s", exc.code)
            totals[f"stars_{key}"] -= tx.amount
            totals[f"count_{key}"] -= 1
    for tx in page:
        if tx.affiliate_stars:
            totals["affiliate_stars"] += tx.affiliate_stars
            totals["affiliate_transactions"] += 1
    return Counter({k: v for k, v in totals.items() if v})
