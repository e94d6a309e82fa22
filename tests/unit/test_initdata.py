"""initData validation: the HMAC and Ed25519 checks, every refusal, and how values are read."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from collections.abc import Callable
from urllib.parse import quote, unquote_plus

import pytest
from nacl.signing import SigningKey, VerifyKey

from murmur.errors import UnauthorizedError
from murmur.initdata_keys import PRODUCTION_PUBLIC_KEY, TEST_PUBLIC_KEY
from murmur.telegram.initdata import MAX_INIT_DATA_BYTES, validate
from sandbox.initdata_signer import encode_user, sign_fields, sign_init_data

BOT_ID = 123456789
TOKEN = f"{BOT_ID}:AAE-unit-test-token_not-a-real-one"
AUTH_DATE = 1_700_000_000
NOW = AUTH_DATE + 5
USER = {
    "id": 424242,
    "first_name": "Ада",
    "last_name": "Lovelace",
    "username": "ada_l",
    "language_code": "en",
    "is_premium": True,
    "allows_write_to_pm": True,
    "photo_url": "https://t.me/i/userpic/320/ada.svg",
}
# A fixed Ed25519 seed so failures reproduce; the tests never use Telegram's private key.
SIGNING_KEY = SigningKey(bytes(range(32)))
PUBLIC_KEY_HEX = SIGNING_KEY.verify_key.encode().hex()
SEED_HEX = SIGNING_KEY.encode().hex()

# Telegram-issued initData published as a fixture in the Telegram Mini Apps community docs
# (docs.telegram-mini-apps.com, init-data-golang page) together with its demo bot's token. It
# pins down two facts no self-signed test can: `signature` is inside the HMAC data-check-string,
# and PRODUCTION_PUBLIC_KEY verifies real Telegram signatures.
PUBLISHED_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
PUBLISHED_INIT_DATA = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C"
    "%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C"
    "%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2F"
    "t.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D"
    "&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682"
    "&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg"
    "&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73"
)
PUBLISHED_AUTH_DATE = 1733509682


def signed(**overrides: object) -> str:
    """Typical initData for USER, as a Telegram client would send it."""
    arguments: dict[str, object] = {
        "auth_date": AUTH_DATE,
        "start_param": "ref_abc",
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "extra": {"chat_type": "sender", "chat_instance": "-8134722200314281151"},
    }
    arguments.update(overrides)
    user = arguments.pop("user", USER)
    return sign_init_data(TOKEN, user, **arguments)  # type: ignore[arg-type]


def hmac_hex(token: str, data_check_string: str) -> str:
    """Telegram's hash, written out here independently of the code under test."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, data_check_string.encode(), hashlib.sha256).hexdigest()


def reject(raw: str, match: str, **kwargs: object) -> UnauthorizedError:
    options: dict[str, object] = {"bot_token": TOKEN, "now": NOW}
    options.update(kwargs)
    with pytest.raises(UnauthorizedError, match=match) as caught:
        validate(raw, **options)  # type: ignore[arg-type]
    return caught.value


def rehashed(raw: str, token: str = TOKEN) -> str:
    """The same fields with the hash made again with `token`: what anyone holding the bot token (leaked) can
    produce, unlike Telegram's Ed25519 signature, which only the signature check can refuse."""
    pairs = [pair.partition("=") for pair in raw.split("&") if not pair.startswith("hash=")]
    fields = sorted((unquote_plus(k), unquote_plus(v)) for k, _, v in pairs)
    check_string = "\n".join(f"{k}={v}" for k, v in fields)
    return "&".join(f"{k}={v}" for k, _, v in pairs) + f"&hash={hmac_hex(token, check_string)}"


def replace_field(raw: str, key: str, encoded_value: str) -> str:
    pairs = [pair.partition("=") for pair in raw.split("&")]
    return "&".join(f"{k}={encoded_value if k == key else v}" for k, _, v in pairs)


def drop_field(raw: str, key: str) -> str:
    return "&".join(pair for pair in raw.split("&") if not pair.startswith(f"{key}="))


# --- the happy path ------------------------------------------------------------------------


def test_round_trip_returns_every_field() -> None:
    raw = signed()

    data = validate(raw, bot_token=TOKEN, now=NOW)

    assert data.user.id == 424242
    assert data.user.first_name == "Ада"
    assert data.user.last_name == "Lovelace"
    assert data.user.username == "ada_l"
    assert data.user.language_code == "en"
    assert data.user.is_premium is True
    assert data.user.allows_write_to_pm is True
    assert data.user.photo_url == "https://t.me/i/userpic/320/ada.svg"
    assert data.auth_date == AUTH_DATE
    assert data.start_param == "ref_abc"
    assert data.query_id == "AAHdF6IQAAAAAN0XohDhrOrc"
    assert data.chat_type == "sender"
    assert data.chat_instance == "-8134722200314281151"
    assert data.raw == raw


def test_minimal_user_gets_defaults() -> None:
    raw = sign_init_data(TOKEN, {"id": 7, "first_name": "Bo"}, auth_date=AUTH_DATE)

    data = validate(raw, bot_token=TOKEN, now=NOW)

    assert (data.user.id, data.user.last_name, data.user.username) == (7, None, None)
    assert (data.user.is_premium, data.user.allows_write_to_pm) == (False, False)
    assert (data.start_param, data.query_id, data.chat_type, data.chat_instance) == (None,) * 4


def test_repr_does_not_show_who_the_user_is() -> None:
    data = validate(signed(), bot_token=TOKEN, now=NOW)

    text = repr(data)

    assert "424242" not in text
    assert "Ада" not in text
    assert "ada_l" not in text


@pytest.mark.parametrize(
    "first_name",
    ["Ёжик", "王小明", "Zoë 🦊", "a&b=c+d%20e/f?g#h", 'quote " back \\ slash', "‮rtl"],
)
def test_non_ascii_and_reserved_characters_survive(first_name: str) -> None:
    raw = signed(user={"id": 1, "first_name": first_name, "last_name": "🙂"})

    data = validate(raw, bot_token=TOKEN, now=NOW)

    assert data.user.first_name == first_name
    assert data.user.last_name == "🙂"


def test_telegram_published_init_data_passes_hmac_including_signature() -> None:
    data = validate(PUBLISHED_INIT_DATA, bot_token=PUBLISHED_TOKEN, now=PUBLISHED_AUTH_DATE)

    assert data.user.id == 279058397
    assert data.user.first_name == "Vladislav + - ? /"
    assert data.user.photo_url == "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg"
    assert (data.chat_type, data.chat_instance) == ("private", "8134722200314281151")


def test_telegram_published_init_data_passes_ed25519_with_production_key() -> None:
    both = validate(PUBLISHED_INIT_DATA, bot_token=PUBLISHED_TOKEN, now=PUBLISHED_AUTH_DATE, require_signature=True)
    assert both.user.id == 279058397


def test_hmac_without_signature_field_would_not_match_telegram() -> None:
    # Had Telegram left `signature` out of the HMAC string (as some libraries assume), its hash
    # would still match once the field is removed. It does not: the field is covered.
    forged = drop_field(PUBLISHED_INIT_DATA, "signature")
    with pytest.raises(UnauthorizedError, match="hash does not match"):
        validate(forged, bot_token=PUBLISHED_TOKEN, now=PUBLISHED_AUTH_DATE)


# --- how values are read --------------------------------------------------------------------


def test_empty_valued_field_is_part_of_the_check_string() -> None:
    user_json = '{"id":5,"first_name":"Eve"}'
    check_string = f"auth_date={AUTH_DATE}\nchat_instance=\nuser={user_json}"
    raw = f"user={quote(user_json)}&chat_instance=&auth_date={AUTH_DATE}&hash={hmac_hex(TOKEN, check_string)}"

    data = validate(raw, bot_token=TOKEN, now=NOW)

    assert data.chat_instance == ""
    # The same data hashed as if the empty field were dropped must not pass.
    without_empty = hmac_hex(TOKEN, f"auth_date={AUTH_DATE}\nuser={user_json}")
    reject(replace_field(raw, "hash", without_empty), "hash does not match")


@pytest.mark.parametrize("space", ["+", "%20"])
def test_plus_and_percent20_both_decode_to_space(space: str) -> None:
    user_json = '{"id":5,"first_name":"Mary Ann"}'
    check_string = f"auth_date={AUTH_DATE}\nuser={user_json}"
    encoded_user = quote(user_json, safe="").replace("%20", space)
    raw = f"user={encoded_user}&auth_date={AUTH_DATE}&hash={hmac_hex(TOKEN, check_string)}"

    assert validate(raw, bot_token=TOKEN, now=NOW).user.first_name == "Mary Ann"


def test_literal_plus_must_arrive_as_percent2b() -> None:
    user_json = '{"id":5,"first_name":"A+B"}'
    check_string = f"auth_date={AUTH_DATE}\nuser={user_json}"
    digest = hmac_hex(TOKEN, check_string)

    good = f"user={quote(user_json, safe='')}&auth_date={AUTH_DATE}&hash={digest}"
    assert validate(good, bot_token=TOKEN, now=NOW).user.first_name == "A+B"

    # An unencoded "+" means a space, so the value no longer matches what was hashed.
    bad = f"user={quote(user_json, safe='+')}&auth_date={AUTH_DATE}&hash={digest}"
    reject(bad, "hash does not match")


def test_signer_output_looks_like_a_telegram_client() -> None:
    raw = sign_init_data(
        TOKEN,
        {"id": 1, "first_name": "A B", "photo_url": "https://x/y"},
        auth_date=AUTH_DATE,
        ed25519_signing_key_hex=SEED_HEX,
    )

    keys = [pair.partition("=")[0] for pair in raw.split("&")]
    assert keys == ["user", "auth_date", "signature", "hash"]
    assert "%20" in raw and "+" not in raw
    assert encode_user({"first_name": "A B", "photo_url": "https://x/y"}) == (
        '{"first_name":"A B","photo_url":"https:\\/\\/x\\/y"}'
    )


def test_signer_refuses_extra_fields_that_shadow_named_ones() -> None:
    with pytest.raises(ValueError, match="auth_date"):
        sign_init_data(TOKEN, USER, auth_date=AUTH_DATE, extra={"auth_date": 1})


# --- refusals: integrity --------------------------------------------------------------------


def test_tampered_value_is_rejected() -> None:
    reject(replace_field(signed(), "start_param", "ref_evil"), "hash does not match")


def test_tampered_user_is_rejected() -> None:
    forged_user = quote(encode_user({**USER, "id": 1}), safe="")
    reject(replace_field(signed(), "user", forged_user), "hash does not match")


def test_removed_field_is_rejected() -> None:
    reject(drop_field(signed(), "chat_type"), "hash does not match")


def test_added_field_is_rejected() -> None:
    reject(signed() + "&chat_type_extra=group", "hash does not match")


def test_wrong_token_is_rejected() -> None:
    reject(signed(), "hash does not match", bot_token=f"{BOT_ID}:AAE-some-other-token")


def test_missing_hash_is_rejected() -> None:
    reject(drop_field(signed(), "hash"), "no hash")


@pytest.mark.parametrize("bad_hash", ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65])
def test_malformed_hash_is_rejected(bad_hash: str) -> None:
    reject(replace_field(signed(), "hash", bad_hash), "not 64 lowercase hex")


def test_uppercase_copy_of_the_right_hash_is_rejected() -> None:
    raw = signed()
    digest = raw.rpartition("hash=")[2]
    reject(replace_field(raw, "hash", digest.upper()), "not 64 lowercase hex")


def test_duplicated_key_is_rejected_even_with_equal_values() -> None:
    reject(signed() + f"&auth_date={AUTH_DATE}", "'auth_date' more than once")


def test_duplicated_odd_key_is_not_echoed() -> None:
    error = reject("k%0Aevil=1&k%0Aevil=2", "a field more than once")
    assert "evil" not in str(error)


@pytest.mark.parametrize("raw", ["", "garbage", "a=1&&b=2", "=1&hash=00", "a=1&", "&a=1"])
def test_not_a_query_string_is_rejected(raw: str) -> None:
    reject(raw, "initData")


def test_invalid_utf8_after_decoding_is_rejected() -> None:
    reject(signed() + "&note=%C3%28", "not valid UTF-8")


def test_oversized_input_is_rejected_before_any_work() -> None:
    raw = signed(extra={"pad": "x" * MAX_INIT_DATA_BYTES})
    reject(raw, f"larger than {MAX_INIT_DATA_BYTES} bytes")


def test_size_is_counted_in_bytes_not_characters() -> None:
    # 1500 four-byte characters are 6000 bytes but only 1500 characters.
    reject("a=" + "😀" * 1500, "larger than")


# --- refusals: freshness ---------------------------------------------------------------------


def test_expired_is_rejected() -> None:
    reject(signed(), "older than 3600 seconds", now=AUTH_DATE + 3601, max_age=3600)


def test_exactly_max_age_is_accepted() -> None:
    data = validate(signed(), bot_token=TOKEN, now=AUTH_DATE + 3600, max_age=3600)
    assert data.auth_date == AUTH_DATE


def test_default_max_age_is_a_day() -> None:
    reject(signed(), "older than 86400 seconds", now=AUTH_DATE + 86401)


def test_future_beyond_skew_is_rejected() -> None:
    reject(signed(), "in the future", now=AUTH_DATE - 61)


def test_future_within_skew_is_accepted() -> None:
    assert validate(signed(), bot_token=TOKEN, now=AUTH_DATE - 60).auth_date == AUTH_DATE


def test_missing_auth_date_is_rejected() -> None:
    raw = sign_fields(TOKEN, [("user", encode_user(USER))])
    reject(raw, "no auth_date")


@pytest.mark.parametrize("value", ["", "abc", "-5", "1.5", "\uff11\uff12\uff13", "1" * 13])
def test_auth_date_not_a_unix_time_is_rejected(value: str) -> None:
    raw = sign_fields(TOKEN, [("user", encode_user(USER)), ("auth_date", value)])
    reject(raw, "auth_date is not a Unix time")


# --- refusals: the user ------------------------------------------------------------------------


def test_missing_user_is_rejected() -> None:
    reject(sign_fields(TOKEN, [("auth_date", str(AUTH_DATE))]), "no user")


@pytest.mark.parametrize(
    ("user_value", "match"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1,2]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ('{"first_name":"A"}', "no positive integer id"),
        ('{"id":"42","first_name":"A"}', "no positive integer id"),
        ('{"id":42.0,"first_name":"A"}', "no positive integer id"),
        ('{"id":true,"first_name":"A"}', "no positive integer id"),
        ('{"id":0,"first_name":"A"}', "no positive integer id"),
        ('{"id":42}', "no first_name"),
        ('{"id":42,"first_name":"A","username":7}', "username has the wrong type"),
        ('{"id":42,"first_name":"A","is_premium":"yes"}', "is_premium has the wrong type"),
    ],
)
def test_bad_user_is_rejected(user_value: str, match: str) -> None:
    raw = sign_fields(TOKEN, [("user", user_value), ("auth_date", str(AUTH_DATE))])
    reject(raw, match)


def test_deeply_nested_user_is_rejected_not_crashed() -> None:
    # Unencoded brackets keep 1990 levels under the size cap, past Python's recursion limit.
    nested = "[" * 1990 + "]" * 1990
    digest = hmac_hex(TOKEN, f"auth_date={AUTH_DATE}\nuser={nested}")
    raw = f"user={nested}&auth_date={AUTH_DATE}&hash={digest}"
    assert len(raw) <= MAX_INIT_DATA_BYTES
    reject(raw, "not valid JSON")


# --- messages never carry secrets --------------------------------------------------------------


def test_error_messages_never_include_hash_token_or_user_data() -> None:
    raw = signed()
    digest = raw.rpartition("hash=")[2]
    cases: list[tuple[str, dict[str, object]]] = [
        (replace_field(raw, "start_param", "x"), {}),
        (raw, {"bot_token": f"{BOT_ID}:AAE-some-other-token"}),
        (raw, {"now": AUTH_DATE + 10**6}),
        (raw + "&user=x", {}),
        (sign_fields(TOKEN, [("user", '{"id":"Ада-424242"}'), ("auth_date", str(AUTH_DATE))]), {}),
    ]
    for case_raw, kwargs in cases:
        error = reject(case_raw, "initData", **kwargs)
        for secret in (digest, TOKEN, "AAE-", "424242", "Ада", "ada_l", "Lovelace"):
            assert secret not in str(error)


# --- Ed25519 ---------------------------------------------------------------------------------


def test_signature_round_trip_with_own_keypair() -> None:
    raw = signed(ed25519_signing_key_hex=SEED_HEX)

    data = validate(raw, bot_token=TOKEN, now=NOW, public_key_hex=PUBLIC_KEY_HEX, require_signature=True)

    assert data.user.id == 424242
    assert data.start_param == "ref_abc"


def test_a_field_changed_by_whoever_holds_the_token_fails_the_signature() -> None:
    raw = rehashed(replace_field(signed(ed25519_signing_key_hex=SEED_HEX), "chat_type", "group"))
    # The hash passes (else the refusal would say so); the signature does not.
    with pytest.raises(UnauthorizedError, match="signature is not Telegram's"):
        validate(raw, bot_token=TOKEN, now=NOW, public_key_hex=PUBLIC_KEY_HEX, require_signature=True)


def test_the_signature_is_bound_to_the_bot_id() -> None:
    """Data Telegram signed for one bot, re-hashed with another bot's token, is that other bot's no more."""
    other = f"{BOT_ID + 1}:AAE-another-bot-token"
    raw = rehashed(signed(ed25519_signing_key_hex=SEED_HEX), other)
    with pytest.raises(UnauthorizedError, match="signature is not Telegram's"):
        validate(raw, bot_token=other, now=NOW, public_key_hex=PUBLIC_KEY_HEX, require_signature=True)


@pytest.mark.parametrize(
    ("mangle", "match"),
    [
        (lambda sig: sig + "==", "not 64 bytes of unpadded base64url"),
        (lambda sig: sig[:-1], "not 64 bytes of unpadded base64url"),
        (lambda sig: sig[:-2] + "+/", "not 64 bytes of unpadded base64url"),
        (lambda sig: ("B" if sig[0] == "A" else "A") + sig[1:], "signature is not Telegram's"),
    ],
    ids=["padded", "short", "standard-alphabet", "first-char-flipped"],
)
def test_malformed_or_altered_signature_fails(mangle: Callable[[str], str], match: str) -> None:
    raw = signed(ed25519_signing_key_hex=SEED_HEX)
    signature = next(p for p in raw.split("&") if p.startswith("signature=")).partition("=")[2]
    raw = rehashed(replace_field(raw, "signature", quote(mangle(signature), safe="")))
    with pytest.raises(UnauthorizedError, match=match):
        validate(raw, bot_token=TOKEN, now=NOW, public_key_hex=PUBLIC_KEY_HEX)


def test_validate_checks_ed25519_when_signature_is_present() -> None:
    raw = signed(ed25519_signing_key_hex=SEED_HEX)

    assert validate(raw, bot_token=TOKEN, now=NOW, public_key_hex=PUBLIC_KEY_HEX).user.id == 424242
    # The hash is right, but Telegram's production key did not make this signature.
    with pytest.raises(UnauthorizedError, match="signature is not Telegram's"):
        validate(raw, bot_token=TOKEN, now=NOW)


def test_validate_without_signature_is_hmac_only_unless_required() -> None:
    raw = signed()

    assert validate(raw, bot_token=TOKEN, now=NOW).user.id == 424242
    with pytest.raises(UnauthorizedError, match="no signature"):
        validate(raw, bot_token=TOKEN, now=NOW, require_signature=True)


def test_validate_runs_the_hmac_check_first() -> None:
    raw = signed(ed25519_signing_key_hex=SEED_HEX)
    with pytest.raises(UnauthorizedError, match="hash does not match"):
        validate(raw, bot_token=f"{BOT_ID}:AAE-other", now=NOW, public_key_hex=PUBLIC_KEY_HEX)


def test_validate_applies_freshness() -> None:
    with pytest.raises(UnauthorizedError, match="older than 60 seconds"):
        validate(signed(), bot_token=TOKEN, now=AUTH_DATE + 61, max_age=60)
    with pytest.raises(UnauthorizedError, match="in the future"):
        validate(signed(), bot_token=TOKEN, now=AUTH_DATE - 11, max_future_skew=10)


def test_signature_check_needs_a_token_with_a_bot_id() -> None:
    raw = sign_init_data("no-colon-token", USER, auth_date=AUTH_DATE)
    with pytest.raises(ValueError, match="bot id"):
        validate(raw, bot_token="no-colon-token", now=NOW, require_signature=True)


@pytest.mark.parametrize("key_hex", [PRODUCTION_PUBLIC_KEY, TEST_PUBLIC_KEY])
def test_published_keys_are_32_byte_ed25519_keys(key_hex: str) -> None:
    assert len(key_hex) == 64
    assert len(bytes.fromhex(key_hex)) == 32
    VerifyKey(bytes.fromhex(key_hex))  # a valid curve point, or nacl raises


def test_production_and_test_keys_are_the_published_ones() -> None:
    assert PRODUCTION_PUBLIC_KEY == "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
    assert TEST_PUBLIC_KEY == "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"


def test_bad_public_key_is_a_setup_error() -> None:
    raw = signed(ed25519_signing_key_hex=SEED_HEX)
    with pytest.raises(ValueError, match="public_key_hex"):
        validate(raw, bot_token=TOKEN, now=NOW, public_key_hex="abcd")


def test_importing_the_module_does_not_import_nacl() -> None:
    # Cold start: the HMAC path is the common one and must not pay for libsodium.
    code = "import sys, murmur.telegram.initdata; assert 'nacl' not in sys.modules, 'nacl imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
