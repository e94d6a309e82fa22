"""Our initData verdicts against an independent implementation (aiogram 3.31) on generated cases.

Each case is made by the sandbox signer, sometimes re-encoded in another legal way ("+" for
spaces, fewer escapes), and a third of them tampered; half the tampered signed ones are then hashed again with the
bot token (a forgery by whoever holds the token: only the signature can refuse it). The verdict compared is the
product's one entry point (`validate`: the hash, and the signature when one is expected) against aiogram's two
checks together. Where the two implementations differ by
design the generator stays out of the way: aiogram drops empty values and keeps the last of
duplicated keys, where we keep empty values and refuse duplicates (covered in test_initdata.py).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from aiogram.utils.web_app import check_webapp_signature as aiogram_check_hash
from aiogram.utils.web_app_signature import check_webapp_signature as aiogram_check_signature
from nacl.signing import SigningKey

from murmur.errors import UnauthorizedError
from murmur.telegram.initdata import validate
from sandbox.initdata_signer import sign_init_data

CASES = 300
SEED = 20240611

_NAME_ALPHABETS = [
    string.ascii_letters,
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗ",
    "王小明李华张伟刘洋陈静",
    "🦊🙂🎉❤️‍🔥👍🏽",
    " &=+%/?#\"'\\;:,.!*()~-_",
    "ÄÖÜßéèêçñ",
]
_VALUE_ALPHABET = string.ascii_letters + string.digits + "-_ &=+%/?ёж王🙂"


@dataclass(frozen=True)
class Case:
    """One generated initData and what was done to it."""

    index: int
    raw: str
    bot_token: str
    bot_id: int
    public_key: bytes | None
    tamper: str
    now: int


def _text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _name(rng: random.Random) -> str:
    return "".join(_text(rng, rng.choice(_NAME_ALPHABETS), 1, 6) for _ in range(rng.randint(1, 3)))


def _user(rng: random.Random) -> dict[str, Any]:
    user: dict[str, Any] = {"id": rng.randint(1, 2**40), "first_name": _name(rng)}
    if rng.random() < 0.5:
        user["last_name"] = _name(rng)
    if rng.random() < 0.5:
        user["username"] = _text(rng, string.ascii_letters + string.digits + "_", 5, 20)
    if rng.random() < 0.5:
        user["language_code"] = rng.choice(["en", "ru", "uk", "zh-hans", "pt-br"])
    for flag in ("is_premium", "allows_write_to_pm"):
        if rng.random() < 0.5:
            user[flag] = rng.random() < 0.5
    if rng.random() < 0.3:
        user["photo_url"] = f"https://t.me/i/userpic/320/{_text(rng, string.ascii_letters, 10, 30)}.svg"
    return user


def _extra(rng: random.Random) -> dict[str, str]:
    extra: dict[str, str] = {}
    if rng.random() < 0.6:
        extra["chat_type"] = rng.choice(["sender", "private", "group", "supergroup", "channel"])
    if rng.random() < 0.6:
        extra["chat_instance"] = str(rng.randint(-(2**63), 2**63 - 1))
    if rng.random() < 0.2:
        extra["can_send_after"] = str(rng.randint(1, 100))
    for _ in range(rng.randint(0, 2)):
        extra[f"x_{_text(rng, string.ascii_lowercase, 3, 8)}"] = _text(rng, _VALUE_ALPHABET, 1, 20)
    return extra


def _split(raw: str) -> list[tuple[str, str]]:
    return [(unquote_plus(k), unquote_plus(v)) for k, _, v in (p.partition("=") for p in raw.split("&"))]


def _join(pairs: list[tuple[str, str]], encode: Callable[[str], str]) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


def _encoder(rng: random.Random) -> Callable[[str], str]:
    """One of the legal ways a client could percent-encode the same values."""
    return rng.choice(
        [
            lambda text: quote(text, safe="!*'()"),  # encodeURIComponent, what Telegram sends
            lambda text: quote_plus(text, safe=""),  # spaces as "+"
            lambda text: quote(text, safe="/:@,;$![]{}\"'"),  # fewer escapes than needed
        ]
    )


def _flip(rng: random.Random, value: str, alphabet: str) -> str:
    position = rng.randrange(len(value))
    replacement = rng.choice([c for c in alphabet if c != value[position]])
    return value[:position] + replacement + value[position + 1 :]


def _tamper(rng: random.Random, pairs: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    kind = rng.choice(["flip-value", "drop-field", "add-field", "change-hash"])
    pairs = list(pairs)
    if kind == "flip-value":
        index = rng.choice([i for i, (k, _) in enumerate(pairs) if k != "hash"])
        key, value = pairs[index]
        # Keep a signature in its alphabet so the change is to the bytes, not to the format.
        alphabet = string.ascii_letters + string.digits + "-_" if key == "signature" else _VALUE_ALPHABET
        pairs[index] = (key, _flip(rng, value, alphabet))
        return f"{kind}:{key}", pairs
    if kind == "drop-field":
        index = rng.randrange(len(pairs))
        key = pairs.pop(index)[0]
        return f"{kind}:{key}", pairs
    if kind == "add-field":
        existing = {k for k, _ in pairs}
        key = rng.choice([k for k in ("start_param", "query_id", "chat_type", "x_added") if k not in existing])
        pairs.insert(rng.randrange(len(pairs) + 1), (key, _text(rng, _VALUE_ALPHABET, 1, 12)))
        return f"{kind}:{key}", pairs
    index = next(i for i, (k, _) in enumerate(pairs) if k == "hash")
    pairs[index] = ("hash", _flip(rng, pairs[index][1], "0123456789abcdef"))
    return kind, pairs


def _rehash(pairs: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    """The hash made again over the (tampered) fields, as Telegram makes it, with the bot token."""
    fields = [(k, v) for k, v in pairs if k != "hash"]
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return [*fields, ("hash", hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest())]


def _generate() -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for index in range(CASES):
        bot_id = rng.randint(10**8, 10**10)
        token = f"{bot_id}:{_text(rng, string.ascii_letters + string.digits + '-_', 35, 35)}"
        auth_date = rng.randint(1_600_000_000, 1_900_000_000)
        signing_key = SigningKey(rng.randbytes(32)) if rng.random() < 0.5 else None
        raw = sign_init_data(
            token,
            _user(rng),
            auth_date=auth_date,
            start_param=_text(rng, string.ascii_letters + string.digits + "_-", 1, 64) if rng.random() < 0.4 else None,
            query_id=_text(rng, string.ascii_letters + string.digits, 24, 24) if rng.random() < 0.4 else None,
            extra=_extra(rng),
            ed25519_signing_key_hex=signing_key.encode().hex() if signing_key else None,
        )
        pairs = _split(raw)
        tamper = "none"
        if index % 3 == 0:
            tamper, pairs = _tamper(rng, pairs)
            forgeable = tamper != "change-hash" and tamper != "drop-field:hash"
            if signing_key is not None and forgeable and rng.random() < 0.5:
                tamper, pairs = f"rehashed-{tamper}", _rehash(pairs, token)
        raw = _join(pairs, _encoder(rng))
        public_key = signing_key.verify_key.encode() if signing_key else None
        cases.append(Case(index, raw, token, bot_id, public_key, tamper, now=auth_date + 1))
    return cases


CASES_GENERATED = _generate()


def _our_verdict(case: Case) -> bool:
    """What the API decides: the hash always; the signature when the case was signed (required then)."""
    key = {"public_key_hex": case.public_key.hex()} if case.public_key else {}
    try:
        validate(case.raw, bot_token=case.bot_token, now=case.now, require_signature=bool(key), **key)
    except UnauthorizedError:
        return False
    return True


def _aiogram_signature_verdict(case: Case, public_key: bytes) -> bool:
    # aiogram lets a malformed base64 signature escape as binascii.Error; that is a refusal too.
    try:
        return aiogram_check_signature(case.bot_id, case.raw, public_key)
    except ValueError:
        return False


def _aiogram_verdict(case: Case) -> bool:
    if not aiogram_check_hash(case.bot_token, case.raw):
        return False
    return case.public_key is None or _aiogram_signature_verdict(case, case.public_key)


def test_generated_cases_cover_every_kind() -> None:
    tampers = {case.tamper.partition(":")[0].removeprefix("rehashed-") for case in CASES_GENERATED}
    assert tampers == {"none", "flip-value", "drop-field", "add-field", "change-hash"}
    assert sum(case.tamper.startswith("rehashed-") for case in CASES_GENERATED) >= 10
    assert sum(case.public_key is not None for case in CASES_GENERATED) > CASES // 3
    assert any("+" in case.raw.partition("&hash=")[0] for case in CASES_GENERATED)


def test_verdicts_match_aiogram() -> None:
    verdicts = [(case, _our_verdict(case), _aiogram_verdict(case)) for case in CASES_GENERATED]

    mismatches = [(case.index, case.tamper, ours, theirs) for case, ours, theirs in verdicts if ours != theirs]
    assert mismatches == []
    # Every untampered case passes, so the agreement is not "both always refuse".
    accepted = [case.index for case, ours, _ in verdicts if ours]
    assert accepted == [case.index for case in CASES_GENERATED if case.tamper == "none"]


def test_forgeries_with_the_token_fool_the_hash_and_not_the_signature() -> None:
    forged = [case for case in CASES_GENERATED if case.tamper.startswith("rehashed-")]
    assert forged and all(aiogram_check_hash(case.bot_token, case.raw) for case in forged)
    assert not any(_our_verdict(case) for case in forged)


def test_untampered_signer_output_is_accepted_by_aiogram() -> None:
    untampered = [c for c in CASES_GENERATED if c.tamper == "none" and c.public_key is not None]
    assert len(untampered) > 50
    for case in untampered:
        assert case.public_key is not None
        assert aiogram_check_hash(case.bot_token, case.raw), case.index
        assert aiogram_check_signature(case.bot_id, case.raw, case.public_key), case.index
