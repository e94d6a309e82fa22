"""Erasure: `DELETE /api/me` and `/deleteme` remove a person's messages, link, orders and profile.

The payment ledger stays, anonymized (amount, product, date), as bookkeeping law requires. Messages the
person sent to others stay in those inboxes, with the link to the sender removed. The blocks the person
set in their own inbox go with their link, which carries them. What deliberately stays (see docs/anonymity.md):
- rate-limit windows (`rate#…`): they expire by TTL within the hour, and deleting them would let anyone
  reset their limits by erasing and coming back;
- blocks *against* the person, set by others: they are pseudonyms on the blockers' links, not the id,
  and erasing must not be a way around a block;
- the person's record (`store.people`), under a keyed hash and only if there is something in it: a ban, or
  that a sign-up of theirs was counted as a referral;
- who paid a charge, for the refund window only (`store.refund_payers`): Telegram refunds to a user id.

Bounded and resumable. `begin_erasure` is one transaction: the account is marked (unusable from that moment,
and listed in the sparse `erasing` index), its link, tally shards and announcement go. Then `continue_erasure`
works in pages (keys-only Queries, BatchWriteItem deletes of 25) until its time budget is spent: what is
deleted, unlinked or anonymized leaves the Query that found it, so the next call starts where the last one
stopped without a cursor. The user's row goes last; until then the cron (`finish_erasures`) picks the erasure up
every minute. Measured on the local stack: docs/anonymity.md, "Erasure"."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from murmur.clock import Clock
from murmur.models import PaymentStatus
from murmur.store.repositories import Repositories

REFUND_WINDOW_SECONDS = 30 * 86400  # from the payment's date: a refund asked for through /paysupport is decided in it
FINISHES_WITHIN_MINUTES = 15  # what the person is told when one call did not finish (see the measurement)
RECEIVED_PAGE = 1000  # messages per page of an inbox (about 200 KB read): 40 BatchWriteItems
PAGE = 100  # sent messages (one UpdateItem each), orders, payments
CRON_ERASURES = 10  # unfinished erasures the cron looks at per run, the longest-waiting first


@dataclass(slots=True)
class Erased:
    """What one call did, and whether the erasure is complete (else the next call or the cron goes on)."""

    done: bool = False
    received: int = 0
    sent: int = 0
    orders: int = 0
    payments_anonymized: int = 0


class Budget:
    """The time one call may spend erasing (real time, not the product's clock: it bounds work, not dates)."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() >= self.ends


class Erasures:
    """`DELETE /api/me` and `/deleteme`: what must still act for the person while their account is whole (a running
    Pro subscription cancelled with Telegram, by `stop_renewals`), then the erasure, for up to a time budget."""

    def __init__(self, repos: Repositories, clock: Clock, stop_renewals: Callable[[int], None]) -> None:
        self.repos = repos
        self.clock = clock
        self.stop_renewals = stop_renewals

    def erase(self, user_id: int, budget_seconds: float) -> Erased:
        """Begin, then erase for up to `budget_seconds`. Idempotent: erasing twice, a user we never saw, or a user
        whose erasure is under way, is fine. TelegramUnavailableError, with nothing erased, when Telegram cannot
        cancel a running subscription now (erasing anyway would leave it charging an account that is gone)."""
        self.stop_renewals(user_id)  # before `begin_erasure` makes the account unusable
        now = self.clock.now()
        begin_erasure(self.repos, user_id, now)
        return continue_erasure(self.repos, user_id, now, Budget(budget_seconds))


def begin_erasure(repos: Repositories, user_id: int, now: float) -> None:
    """One transaction: the account marked as being erased (a bare row if there was none, so the cron finds it),
    its link with the blocks it carries (no one can write to the person any more), its tally shards and its
    announcement. The State items go here, in the person's own request: the cron never deletes from State."""
    user = repos.users.get(user_id, consistent=True)
    ops = [
        repos.users.mark_erasing_op(user_id, int(now)),
        *repos.tallies.delete_ops(user_id),
        repos.outbox.forget_announcements_op(user_id),
    ]
    if user is not None and user.link_code:
        ops.append(repos.links.delete_op(user.link_code))
    repos.tx.write(ops)


def continue_erasure(repos: Repositories, user_id: int, now: float, budget: Budget) -> Erased:
    """The rest, page by page, until done or the budget is spent; the user's row (and its mark) go last."""
    progress = Erased()
    steps: tuple[Callable[[Repositories, int, float, Budget, Erased], bool], ...] = (
        _erase_inbox,
        _unlink_sent,
        _delete_orders,
        _anonymize_payments,
    )
    for step in steps:
        if not step(repos, user_id, now, budget, progress):
            return progress
    repos.users.delete(user_id)
    progress.done = True
    return progress


def finish_erasures(repos: Repositories, now: float, budget_seconds: float) -> dict[str, int]:
    """The cron's part: go on with erasures no call finished, the longest-waiting first, within the budget."""
    budget = Budget(budget_seconds)
    finished = pending = 0
    for user_id in repos.users.erasing(CRON_ERASURES):
        if budget.spent() or not continue_erasure(repos, user_id, now, budget).done:
            pending += 1
        else:
            finished += 1
    return {"erasures_finished": finished, "erasures_pending": pending}


def _erase_inbox(repos: Repositories, user_id: int, now: float, budget: Budget, progress: Erased) -> bool:
    """Every message received. Gifts others paid for keep their ledger row; their order forgets whom it was for,
    before the message goes (so a stop in between loses nothing)."""
    while not budget.spent():
        page = repos.messages.received_page(user_id, RECEIVED_PAGE)
        if not page:
            return True
        for _, gifts in page:
            for charge_id in gifts:
                payment = repos.payments.get(charge_id)
                if payment is not None and payment.order_id:
                    repos.orders.forget_recipient(payment.order_id)
        repos.messages.delete_received(user_id, [message_id for message_id, _ in page])
        progress.received += len(page)
    return False


def _unlink_sent(repos: Repositories, user_id: int, now: float, budget: Budget, progress: Erased) -> bool:
    """Every message sent: it stays with its recipient, without sender, clues or nickname."""
    while not budget.spent():
        page = repos.messages.sent_page(user_id, PAGE)
        if not page:
            return True
        for recipient_id, message_id in page:
            if budget.spent():
                return False
            repos.messages.forget_sender(recipient_id, message_id)
            progress.sent += 1
    return False


def _delete_orders(repos: Repositories, user_id: int, now: float, budget: Budget, progress: Erased) -> bool:
    while not budget.spent():
        order_ids = repos.orders.ids_of_buyer(user_id, PAGE)
        if not order_ids:
            return True
        repos.orders.delete_many(order_ids)
        progress.orders += len(order_ids)
    return False


def _anonymize_payments(repos: Repositories, user_id: int, now: float, budget: Budget, progress: Erased) -> bool:
    """The ledger keeps amount, product and date. Who paid a charge that may still be refunded is kept beside
    it until the refund window closes (first, so a stop in between loses nothing)."""
    while not budget.spent():
        payments = repos.payments.of_user(user_id, limit=PAGE)
        if not payments:
            return True
        for payment in payments:
            refundable_until = payment.created_at + REFUND_WINDOW_SECONDS
            if payment.status is PaymentStatus.PAID and now < refundable_until:
                repos.refund_payers.keep(payment.charge_id, user_id, refundable_until)
            repos.payments.anonymize(payment.charge_id)
            progress.payments_anonymized += 1
    return False
