"""Authorization: `tma <initData>` on every /api route but the public ones, checked before routing."""

from __future__ import annotations

from murmur.errors import UnauthorizedError
from murmur.models import Person
from murmur.telegram.initdata import InitData, validate

PUBLIC_PATHS = frozenset({"/api/openapi.json", "/api/catalog"})
# Story card images: Telegram's client fetches them by URL, without initData; the unguessable token is the key.
PUBLIC_PREFIXES = ("/api/stories/",)


def is_public(path: str) -> bool:
    """Whether a path is served without initData."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def authenticate(
    headers: dict[str, str],
    *,
    bot_token: str,
    now: float,
    max_age: int,
    public_key_hex: str,
    require_signature: bool = True,
) -> InitData:
    """The HMAC always; the Ed25519 `signature` too, against the Telegram key chosen by configuration
    (production unless told otherwise): required unless configured off, and checked whenever sent."""
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "tma" or not raw.strip():
        raise UnauthorizedError("send Authorization: tma <initData>")
    return validate(
        raw.strip(),
        bot_token=bot_token,
        now=now,
        max_age=max_age,
        require_signature=require_signature,
        public_key_hex=public_key_hex,
    )


def person_of(init: InitData) -> Person:
    u = init.user
    return Person(u.id, u.first_name, u.language_code, u.is_premium)
