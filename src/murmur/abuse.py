"""Who may write to whom: pseudonyms, nicknames, rate-limit windows, blocks, reports and bans."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

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
