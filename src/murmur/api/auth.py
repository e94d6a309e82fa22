"""Authorization: `tma <initData>` on every /api route but the public ones, checked before routing."""

from __future__ import annotations

from murmur.errors import UnauthorizedError
from murmur.models import Person
from murmur.telegram.initdata import InitData, validate

PUBLIC_PATHS = frozenset({"/api/openapi.json", "/api/catalog"})


def authenticate(headers: dict[str, str], *, bot_token: str, now: float, max_age: int, public_key_hex: str) -> InitData:
    """The HMAC always; the Ed25519 `signature` too whenever the client sent one (checked, not trusted),
    against the Telegram key chosen by configuration (production unless told otherwise)."""
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "tma" or not raw.strip():
        raise UnauthorizedError("send Authorization: tma <initData>")
    return validate(raw.strip(), bot_token=bot_token, now=now, max_age=max_age, public_key_hex=public_key_hex)


def person_of(init: InitData) -> Person:
    u = init.user
    return Person(u.id, u.first_name, u.language_code, u.is_premium)
