"""Who may write to whom: pseudonyms, nicknames, rate-limit windows, blocks, reports and bans."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from murmur.errors import ConflictError, NotFoundError
from murmur.store.links import MAX_BLOCKS

if TYPE_CHECKING:
    from murmur.inbox import Inbox
    from murmur.models import Message, Person
    from murmur.notices import Notice
    from murmur.store.repositories import Repositories

_ADJECTIVES = (
    "Quiet", "Bright", "Gentle", "Swift", "Curious", "Brave", "Calm", "Clever", "Silver", "Golden",
    "Hidden", "Lucky", "Misty", "Polar", "Rapid", "Secret", "Shy", "Sunny", "Wild", "Velvet",
)  # fmt: skip
_ANIMALS = (
    "Fox", "Owl", "Otter", "Lynx", "Panda", "Heron", "Koala", "Raven", "Tiger", "Whale",
    "Falcon", "Badger", "Dolphin", "Hedgehog", "Moth", "Wolf", "Sparrow", "Seal", "Gecko", "Bison",
)  # fmt: skip


def pseudonym(secret: bytes, recipient_id: int, sender_id: int) -> str:
    """Stable per (recipient, sender), unlinkable across recipients, and reveals nothing without the secret."""
    return hmac.new(secret, f"{recipient_id}:{sender_id}".encode(), hashlib.sha256).hexdigest()[:24]


def nickname(pseudo: str) -> str:
    """A readable name derived from the pseudonym: the same sender gets the same one in one inbox."""
    value = int(pseudo[:8], 16)
    return f"{_ADJECTIVES[value % 20]} {_ANIMALS[(value // 20) % 20]} {value // 400 % 90 + 10}"


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed rate-limit window: its key suffix and when it ends."""

    start: int
    end: int

    @classmethod
    def at(cls, now: float, seconds: int) -> Window:
        start = int(now) // seconds * seconds
        return cls(start, start + seconds)

    def retry_after(self, now: float) -> int:
        return max(1, self.end - int(now))


class Moderation:
    """Blocks (by pseudonym, per recipient), reports (once per message, to admins) and bans (everywhere)."""

    def __init__(self, repos: Repositories, inbox: Inbox, admin_ids: frozenset[int]) -> None:
        self.repos = repos
        self.inbox = inbox
        self.admin_ids = admin_ids

    def block(self, owner_id: int, message_id: str) -> None:
        """Every later message from this message's sender to this owner is refused."""
        message = self.inbox.own_message(owner_id, message_id)
        self._block(message)

    def _block(self, message: Message) -> None:
        """On the recipient's link, which every send reads (`store.links`)."""
        owner = self.repos.users.get(message.recipient_id)
        if owner is None or not owner.link_code:
            raise NotFoundError("no such message")
        if not self.repos.links.block(owner.link_code, message.pseudonym):
            raise ConflictError(f"you have blocked {MAX_BLOCKS} senders; turn off new messages instead")

    def report(self, owner_id: int, message_id: str, reason: str) -> list[Notice]:
        """Flag the message once and tell every admin; a repeated report tells no one again."""
        from murmur import notices  # notices -> inbox -> abuse: imported here to keep the cycle open
        from murmur.inbox import clean_text

        reason = clean_text(reason, 300, "reason") if reason.strip() else ""
        message = self.inbox.own_message(owner_id, message_id)
        if not self.repos.messages.mark_reported(owner_id, message_id):
            return []
        return [notices.report(admin, "en", message, reason) for admin in sorted(self.admin_ids)]

    def reported_message(self, key: str) -> Message:
        recipient, _, message_id = key.partition(":")
        if not recipient.isdigit():
            raise NotFoundError("no such message")
        return self.inbox.own_message(int(recipient), message_id)

    def ban_sender_of(self, key: str) -> None:
        """An admin action from a report: the sender can no longer send, reply or buy."""
        message = self.reported_message(key)
        if message.sender_id:
            self.repos.users.set_flag(message.sender_id, "banned", True)

    def block_for_recipient(self, key: str) -> None:
        self._block(self.reported_message(key))

    def support_request(self, person: Person, text: str) -> list[Notice]:
        """A /paysupport request for every admin, with the person's recent payments."""
        from murmur import notices
        from murmur.inbox import clean_text

        body = clean_text(text, 1000, "request")
        payments = self.repos.payments.of_user(person.id, limit=5)
        return [
            notices.support_request(admin, person.id, person.language_code or "?", body, payments)
            for admin in sorted(self.admin_ids)
        ]

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
