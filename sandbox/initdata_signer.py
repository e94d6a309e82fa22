"""Sign initData the way Telegram does, so the sandbox and the tests can open the Mini App as anyone.

This plays Telegram's side of `murmur.telegram.initdata`: it never ships. The output looks like a
real client's `Telegram.WebApp.initData`: compact user JSON with "/" escaped as "\\/" (as
Telegram's servers write it), every value percent-encoded like JavaScript's `encodeURIComponent`,
`signature` (when an Ed25519 key is given) before `hash`, and `hash` covering `signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

__all__ = ["encode_user", "sign_fields", "sign_init_data"]

# Characters encodeURIComponent leaves alone besides letters, digits and "-_.~".
_URI_COMPONENT_SAFE = "!*'()"
_RESERVED = frozenset({"user", "auth_date", "start_param", "query_id", "hash", "signature"})


def sign_init_data(
    bot_token: str,
    user: dict[str, Any],
    *,
    auth_date: int,
    start_param: str | None = None,
    query_id: str | None = None,
    extra: dict[str, Any] | None = None,
    ed25519_signing_key_hex: str | None = None,
) -> str:
    """initData for `user`, hashed with `bot_token` and, given a 32-byte seed, Ed25519-signed.

    `extra` adds fields such as `chat_type` / `chat_instance` (values are sent as str()).
    """
    extra = dict(extra or {})
    clash = _RESERVED.intersection(extra)
    if clash:
        raise ValueError(f"extra must not set {sorted(clash)}; use the named arguments")
    fields: list[tuple[str, str]] = []
    if query_id is not None:
        fields.append(("query_id", query_id))
    fields.append(("user", encode_user(user)))
    fields.extend((key, str(value)) for key, value in extra.items())
    if start_param is not None:
        fields.append(("start_param", start_param))
    fields.append(("auth_date", str(auth_date)))
    return sign_fields(bot_token, fields, ed25519_signing_key_hex=ed25519_signing_key_hex)


def sign_fields(
    bot_token: str,
    fields: Sequence[tuple[str, str]] | Mapping[str, str],
    *,
    ed25519_signing_key_hex: str | None = None,
) -> str:
    """Any list of fields, signed: for tests that need initData a real client would never send."""
    pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    if ed25519_signing_key_hex is not None:
        bot_id = bot_token.partition(":")[0]
        message = f"{bot_id}:WebAppData\n" + _check_lines(pairs, excluded=("hash", "signature"))
        pairs.append(("signature", _ed25519_signature(ed25519_signing_key_hex, message.encode())))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    # The hash covers `signature` too: it is one of the received fields.
    data_check_string = _check_lines(pairs, excluded=("hash",))
    digest = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    pairs.append(("hash", digest))
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in pairs)


def encode_user(user: dict[str, Any]) -> str:
    """The user object as Telegram serializes it: compact, UTF-8, slashes escaped."""
    # "/" can only occur inside JSON strings, where "\/" is a valid escape for it.
    return json.dumps(user, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def _check_lines(pairs: Sequence[tuple[str, str]], *, excluded: tuple[str, ...]) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(pairs) if key not in excluded)


def _ed25519_signature(signing_key_hex: str, message: bytes) -> str:
    from nacl.signing import SigningKey

    signature = SigningKey(bytes.fromhex(signing_key_hex)).sign(message).signature
    return base64.urlsafe_b64encode(signature).decode().rstrip("=")


def _encode(text: str) -> str:
    return quote(text, safe=_URI_COMPONENT_SAFE)
