"""What people write: invisible-only text refused, bidirectional controls dropped, previews and notices neutral."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from murmur import notices
from murmur.errors import InvalidInputError
from murmur.models import ReportToReview
from murmur.user_text import (
    BIDI_CONTROLS,
    VISIBLE_CHARACTER,
    clean_text,
    is_invisible,
    preview,
    shows_nothing,
    without_bidi_controls,
)

INVISIBLE_ONLY = [
    "\u200b",
    "\u200c\u200d",
    "\ufeff",
    "\ufe0f",
    "\U000e0100",
    "\u3164",
    "\u115f\u1160",
    "\uffa0",
    "\u2800",
    "\u034f",
    "\u00ad",
    "\u2060\u2061\u2062\u2063\u2064",
    "\U000e0001\U000e0041",
    "\u180e\u180b",
    " \u3000\u2028\u2029\u00a0\u202f\u205f ",
    "\u202e",
    "\u2066\u2069\u200e\u200f\u061c",
]


@pytest.mark.parametrize("text", INVISIBLE_ONLY, ids=ascii)
def test_text_of_invisible_characters_only_is_refused_as_empty(text: str) -> None:
    with pytest.raises(InvalidInputError, match="message is empty"):
        clean_text(text, 1000, "message")
    assert shows_nothing(text)
    assert not re.fullmatch(VISIBLE_CHARACTER, text[0])


SHOWS_SOMETHING = ["a", "❤️", "👨‍👩‍👧", "\u200bhi\u200b", "مرحبا", "\u3164x", "ㅎ", "⠁"]


def test_bidirectional_controls_are_dropped_and_everything_else_kept() -> None:
    for text in SHOWS_SOMETHING:  # joiners and variation selectors inside emoji, right-to-left letters: kept
        assert clean_text(text, 1000) == text and not shows_nothing(text), ascii(text)
    spoof = "\u202eexe.txt\u202c \u2067isolated\u2069 \u200fmarks\u200e \u061cletter \u202a\u202b\u202d\u2066\u2068x"
    assert clean_text(spoof, 1000) == "exe.txt isolated marks letter x"
    assert without_bidi_controls("a\u200db") == "a\u200db"  # a joiner is no bidirectional control
    assert {chr(c) for c in (0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))} == BIDI_CONTROLS


def test_control_characters_and_length_are_still_refused_after_cleaning() -> None:
    with pytest.raises(InvalidInputError, match="control characters"):
        clean_text("hello\x07", 1000)
    with pytest.raises(InvalidInputError, match="longer than 5"):
        clean_text("abcdef", 5)
    assert clean_text("\u202eabcde\u202c", 5) == "abcde"  # what is stored is what is counted


def test_the_invisible_ranges_cover_every_control_format_and_space_character() -> None:
    missing = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in {"Cc", "Cf", "Zs", "Zl", "Zp"} and not is_invisible(chr(cp))
    ]
    assert missing == []


def test_the_schema_pattern_and_the_check_agree_character_by_character() -> None:
    pattern = re.compile(VISIBLE_CHARACTER)
    for cp in [*range(0x0000, 0x3200), *range(0xFE00, 0x10000), *range(0xE0000, 0xE0200), 0x1D173, 0x1BCA0]:
        char = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert bool(pattern.fullmatch(char)) == (not is_invisible(char)), hex(cp)


def test_a_preview_drops_bidirectional_controls_and_words_that_show_nothing() -> None:
    assert preview("\u202eexe.txt\u202c is a trap, really") == "exe.txt is a…"
    assert preview("\u3164 \u200b \u2800 actual words here and more") == "actual words here…"
    assert preview("one two") == "one two"


def test_notices_carry_no_bidirectional_control_from_what_people_wrote_or_named() -> None:
    waiting = ReportToReview(4_200_000_001, "1700000000000abcdef12", "\u202eexe.txt\u202c trap", "\u2067spam\u2069", 1)
    digest = notices.report_digest(1001, "en", 1, 1, [waiting])
    named = notices.write_to("https://app.example/", 1002, "en", "Eve\u202e", "AbCdEfGhIjKl")
    for text in (digest.text, named.text):
        assert not any(char in BIDI_CONTROLS for char in text), ascii(text)
    assert "exe.txt trap" in digest.text and "reason: spam" in digest.text
    assert [b.callback_data for b in digest.buttons[0]] == [f"{a}:{waiting.key}" for a in ("ban", "blk", "ok")]
