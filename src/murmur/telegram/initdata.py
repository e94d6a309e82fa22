"""Telegram Mini App initData: who is calling, proven by Telegram's signature.

The Mini App sends `Telegram.WebApp.initData` (a query string) with every API call. Nothing in it
is trusted until one of Telegram's two signatures checks out
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):

- `hash`: hex HMAC-SHA-256 of the data-check-string (every received field except `hash`, sorted
  by key, `key=value` joined by "\\n") under HMAC_SHA256(key="WebAppData", msg=bot_token).
  Current clients also send `signature`; it is a received field, so it is part of this string.
- `signature` (Bot API 8.0): base64url Ed25519 signature by Telegram's published key over
  f"{bot_id}:WebAppData\\n" + the same sorted lines without `hash` and `signature`.

The fields are read exactly as received: split on "&", URL-decoded once, never re-serialized, so
empty values stay in the string and a duplicated key is refused rather than silently merged.
Error messages name the failed rule and never echo the hash, the token or the user's data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import unquote_plus

from murmur.errors import UnauthorizedError
from murmur.initdata_keys import PRODUCTION_PUBLIC_KEY

__all__ = [
    "MAX_INIT_DATA_BYTES",
    "InitData",
    "WebAppUser",
    "validate",
]

# Real initData is well under 1 KiB; the cap bounds the work an unauthenticated caller can cause.
MAX_INIT_DATA_BYTES = 4096
DEFAULT_MAX_AGE = 86400
DEFAULT_MAX_FUTURE_SKEW = 60

_HASH_RE = re.compile(r"[0-9a-f]{64}")
# 64 signature bytes are 86 base64url characters once the "==" padding is dropped.
_SIGNATURE_RE = re.compile(r"[A-Za-z0-9_-]{86}")
_AUTH_DATE_RE = re.compile(r"[0-9]{1,12}")
_NAMEABLE_KEY_RE = re.compile(r"[a-z_]{1,32}")
_PUBLIC_KEY_RE = re.compile(r"[0-9a-fA-F]{64}")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """The Telegram user who opened the Mini App (Bot API `WebAppUser`, the fields we use).

    Who they are stays out of repr(), so a stray log line cannot unmask a sender.
    """

    id: int = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str | None = field(repr=False)
    username: str | None = field(repr=False)
    language_code: str | None
    is_premium: bool
    allows_write_to_pm: bool
    photo_url: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class InitData:
    """Validated initData. Text fields are as received (an empty value stays ""); `raw` is the input."""

    user: WebAppUser
    auth_date: int
    start_param: str | None
    query_id: str | None
    chat_type: str | None
    chat_instance: str | None
    raw: str = field(repr=False)


def validate(
    raw: str,
    *,
    bot_token: str,
    now: float,
    max_age: int = DEFAULT_MAX_AGE,
    max_future_skew: int = DEFAULT_MAX_FUTURE_SKEW,
    require_signature: bool = False,
    public_key_hex: str = PRODUCTION_PUBLIC_KEY,
) -> InitData:
    """The API's one entry: the HMAC check always, plus Ed25519 when `signature` is sent or required.

    A present `signature` is checked too (one verify, well under a millisecond) rather than
    trusted blindly. `require_signature=True` goes further: with it, a leaked bot token alone can
    no longer mint initData, because only Telegram holds the Ed25519 private key. The sandbox
    signs with its own keypair, so it passes its public key as `public_key_hex`.
    """
    fields = _parse(raw)
    _check_hash(fields, bot_token)
    if "signature" in fields or require_signature:
        _check_signature(fields, _bot_id_of(bot_token), public_key_hex)
    return _build(fields, raw, now=now, max_age=max_age, max_future_skew=max_future_skew)


# --- parsing ---------------------------------------------------------------------------------


def _parse(raw: str) -> dict[str, str]:
    """Split the query string into decoded fields, refusing anything ambiguous."""
    if not isinstance(raw, str) or not raw:
        raise UnauthorizedError("initData is missing")
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnauthorizedError("initData is not valid text") from None
    if size > MAX_INIT_DATA_BYTES:
        raise UnauthorizedError(f"initData is larger than {MAX_INIT_DATA_BYTES} bytes")
    fields: dict[str, str] = {}
    for pair in raw.split("&"):
        key_part, sep, value_part = pair.partition("=")
        if not sep or not key_part:
            raise UnauthorizedError("initData is not a query string of key=value pairs")
        try:
            key = unquote_plus(key_part, errors="strict")
            value = unquote_plus(value_part, errors="strict")
        except UnicodeDecodeError:
            raise UnauthorizedError("initData is not valid UTF-8 after URL decoding") from None
        if key in fields:
            raise UnauthorizedError(f"initData has {_field_name(key)} more than once")
        fields[key] = value
    return fields


def _field_name(key: str) -> str:
    """Name a field in an error message only when it looks like one of Telegram's field names."""
    return f"the field '{key}'" if _NAMEABLE_KEY_RE.fullmatch(key) else "a field"


def _check_lines(fields: dict[str, str], *, excluded: tuple[str, ...]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key not in excluded)


# --- HMAC (bot token) ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _secret_key(bot_token: str) -> bytes:
    """HMAC_SHA256(key="WebAppData", msg=bot_token); derived once per token per container."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_hash(fields: dict[str, str], bot_token: str) -> None:
    received = fields.get("hash")
    if received is None:
        raise UnauthorizedError("initData has no hash")
    if not _HASH_RE.fullmatch(received):
        raise UnauthorizedError("initData hash is not 64 lowercase hex characters")
    if not bot_token:
        raise ValueError("bot_token is empty")
    data_check_string = _check_lines(fields, excluded=("hash",))
    expected = hmac.new(_secret_key(bot_token), data_check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        raise UnauthorizedError("initData hash does not match: the data was not signed for this bot")


# --- Ed25519 (Telegram's public key) ---------------------------------------------------------


def _bot_id_of(bot_token: str) -> int:
    """The bot id is the part of the token before ':' (a token without one is a setup error)."""
    head, sep, _ = bot_token.partition(":")
    if not sep or not head.isascii() or not head.isdigit():
        raise ValueError("bot_token does not start with '<bot id>:'")
    return int(head)


@lru_cache(maxsize=4)
def _verify_key(public_key_hex: str) -> Any:
    """Build (and keep) the nacl key; nacl is imported here only, to keep cold starts small."""
    from nacl.signing import VerifyKey

    if not _PUBLIC_KEY_RE.fullmatch(public_key_hex):
        raise ValueError("public_key_hex must be 32 bytes as 64 hex characters")
    return VerifyKey(bytes.fromhex(public_key_hex))


def _check_signature(fields: dict[str, str], bot_id: int, public_key_hex: str) -> None:
    encoded = fields.get("signature")
    if encoded is None:
        raise UnauthorizedError("initData has no signature")
    if not _SIGNATURE_RE.fullmatch(encoded):
        raise UnauthorizedError("initData signature is not 64 bytes of unpadded base64url")
    try:
        signature = base64.urlsafe_b64decode(encoded + "==")
    except (binascii.Error, ValueError):
        raise UnauthorizedError("initData signature is not valid base64url") from None
    message = f"{bot_id}:WebAppData\n" + _check_lines(fields, excluded=("hash", "signature"))

    verify_key = _verify_key(public_key_hex)
    from nacl.exceptions import BadSignatureError

    try:
        verify_key.verify(message.encode(), signature)
    except BadSignatureError:
        raise UnauthorizedError("initData signature is not Telegram's signature for this bot") from None


# --- content ---------------------------------------------------------------------------------


def _build(fields: dict[str, str], raw: str, *, now: float, max_age: int, max_future_skew: int) -> InitData:
    """Turn authenticated fields into InitData, refusing stale data and a missing or odd user."""
    auth_date = _auth_date(fields, now=now, max_age=max_age, max_future_skew=max_future_skew)
    return InitData(
        user=_user(fields),
        auth_date=auth_date,
        start_param=fields.get("start_param"),
        query_id=fields.get("query_id"),
        chat_type=fields.get("chat_type"),
        chat_instance=fields.get("chat_instance"),
        raw=raw,
    )


def _auth_date(fields: dict[str, str], *, now: float, max_age: int, max_future_skew: int) -> int:
    value = fields.get("auth_date")
    if value is None:
        raise UnauthorizedError("initData has no auth_date")
    if not _AUTH_DATE_RE.fullmatch(value):
        raise UnauthorizedError("initData auth_date is not a Unix time")
    auth_date = int(value)
    if now - auth_date > max_age:
        raise UnauthorizedError(f"initData is older than {max_age} seconds; reopen the Mini App")
    if auth_date - now > max_future_skew:
        raise UnauthorizedError("initData auth_date is in the future")
    return auth_date


def _user(fields: dict[str, str]) -> WebAppUser:
    value = fields.get("user")
    if value is None:
        raise UnauthorizedError("initData has no user")
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        raise UnauthorizedError("initData user is not valid JSON") from None
    if not isinstance(data, dict):
        raise UnauthorizedError("initData user is not a JSON object")
    user_id = data.get("id")
    if type(user_id) is not int or user_id <= 0:
        raise UnauthorizedError("initData user has no positive integer id")
    first_name = data.get("first_name")
    if not isinstance(first_name, str):
        raise UnauthorizedError("initData user has no first_name")
    return WebAppUser(
        id=user_id,
        first_name=first_name,
        last_name=_optional(data, "last_name", str),
        username=_optional(data, "username", str),
        language_code=_optional(data, "language_code", str),
        is_premium=_optional(data, "is_premium", bool) or False,
        allows_write_to_pm=_optional(data, "allows_write_to_pm", bool) or False,
        photo_url=_optional(data, "photo_url", str),
    )


def _optional(data: dict[str, Any], name: str, kind: type[_T]) -> _T | None:
    value = data.get(name)
    if value is None or isinstance(value, kind):
        return value
    raise UnauthorizedError(f"initData user field {name} has the wrong type")
