"""Erasure: `DELETE /api/me` and `/deleteme` remove a person's messages, link, orders and profile.

The payment ledger stays, anonymized (amount, product, date), as bookkeeping law requires. Messages the
person sent to others stay in those inboxes, with the link to the sender removed. The blocks the person
set in their own inbox go with it. What deliberately stays (see docs/anonymity.md):
- rate-limit windows (`rate#…`): they expire by TTL within the hour, and deleting them would let anyone
  reset their limits by erasing and coming back;
- blocks *against* the person, set by others: they are keyed by a pseudonym, not the id, and erasing
  must not be a way around a block."""

from __future__ import annotations

from dataclasses import dataclass

from murmur.store.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Erased:
    received: int
    sent: int
    orders: int
    payments_anonymized: int
    blocks: int


def erase_user(repos: Repositories, user_id: int) -> Erased:
    """Idempotent: erasing twice, or a user we never saw, is fine."""
    user = repos.users.get(user_id, consistent=True)
    blocks = _pseudonyms_in_inbox(repos, user_id)
    for pseudonym in blocks:
        repos.state.unblock(user_id, pseudonym)
    received = repos.messages.keys_of_recipient(user_id)
    for recipient_id, message_id in received:
        message = repos.messages.get(recipient_id, message_id, consistent=True)
        for charge_id in message.gifts if message else {}:
            # Gifts others paid for: the ledger row stays theirs; the order forgets whom it was for.
            payment = repos.payments.get(charge_id)
            if payment is not None and payment.order_id:
                repos.orders.forget_recipient(payment.order_id)
        repos.messages.delete(recipient_id, message_id)
    sent = repos.messages.keys_of_sender(user_id)
    for recipient_id, message_id in sent:
        repos.messages.forget_sender(recipient_id, message_id)
    orders = repos.orders.ids_of_buyer(user_id)
    for order_id in orders:
        repos.orders.delete(order_id)
    payments = repos.payments.of_user(user_id, limit=1000)
    for payment in payments:
        repos.payments.anonymize(payment.charge_id)
    if user is not None:
        if user.link_code:
            repos.links.delete(user.link_code)
        repos.users.delete(user_id)
    return Erased(len(received), len(sent), len(orders), len(payments), len(blocks))


def _pseudonyms_in_inbox(repos: Repositories, user_id: int) -> list[str]:
    """Every block is set from a message in the blocker's inbox, so that inbox's pseudonyms name them all
    (a Query of the inbox, no Scan)."""
    pseudonyms: set[str] = set()
    cursor: str | None = None
    for _ in range(10_000):  # bounded: 100 per page
        messages, cursor = repos.messages.page(user_id, 100, cursor)
        pseudonyms.update(m.pseudonym for m in messages)
        if cursor is None:
            break
    return sorted(pseudonyms)
