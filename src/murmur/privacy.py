"""Erasure: `DELETE /api/me` and `/deleteme` remove a person's messages, link, orders and profile.

The payment ledger stays, anonymized (amount, product, date), as bookkeeping law requires. Messages the
person sent to others stay in those inboxes, with the link to the sender removed. The blocks the person
set in their own inbox go with their link, which carries them. What deliberately stays (see docs/anonymity.md):
- rate-limit windows (`rate#…`): they expire by TTL within the hour, and deleting them would let anyone
  reset their limits by erasing and coming back;
- blocks *against* the person, set by others: they are pseudonyms on the blockers' links, not the id,
  and erasing must not be a way around a block."""

from __future__ import annotations

from dataclasses import dataclass

from murmur.store.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Erased:
    received: int
    sent: int
    orders: int
    payments_anonymized: int


def erase_user(repos: Repositories, user_id: int) -> Erased:
    """Idempotent: erasing twice, or a user we never saw, is fine."""
    user = repos.users.get(user_id, consistent=True)
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
    repos.tallies.delete_all(user_id)
    repos.outbox.forget_announcements(user_id)
    if user is not None:
        if user.link_code:
            repos.links.delete(user.link_code)
        repos.users.delete(user_id)
    return Erased(len(received), len(sent), len(orders), len(payments))
