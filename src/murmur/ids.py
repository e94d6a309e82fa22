"""The formats of personal link codes and message ids, and new ones."""

from __future__ import annotations

import re
import secrets
import string

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
CODE_RE = re.compile(r"^[A-Za-z0-9]{12}$")
MESSAGE_ID_RE = re.compile(r"^\d{13}[0-9a-f]{8}$")


def new_link_code() -> str:
    """Unguessable and unrelated to the Telegram id (62^12 ≈ 3·10^21)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_message_id(now: float) -> str:
    """Sorts by time (milliseconds) and is unique (random suffix)."""
    return f"{int(now * 1000):013d}{secrets.token_hex(4)}"
