"""Text that people write (messages, replies, reasons): cleaned on the way in, previewed, neutralised.

Two tricks are refused here. A message of invisible characters only (zero-width spaces, joiners, a BOM,
variation selectors, Hangul fillers, ...) would reach an owner as a message that says nothing, through
every "is it empty?" check that looks at whitespace only. Bidirectional controls (overrides, embeddings,
isolates, marks) would let a sender reorder what the bot says around their words, in a preview or a notice
("…txt.exe" shown as "…exe.txt"); they are dropped from what is stored and from whatever is shown.

"Invisible" is one list of code point ranges, used by `clean_text` and, as a regular expression, by the
API's schema (`VISIBLE_CHARACTER`): Unicode's general categories Cc, Cf, Zs, Zl and Zp, its
Default_Ignorable_Code_Point property (DerivedCoreProperties.txt: fillers, variation selectors, tags), and
U+2800 BRAILLE PATTERN BLANK, which renders as nothing.
"""

from __future__ import annotations

import bisect
import unicodedata

from murmur.errors import InvalidInputError

PREVIEW_WORDS = 3
PREVIEW_MAX_CHARS = 48

# Inclusive ranges, sorted and disjoint.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),  # C0 controls, space
    (0x007F, 0x00A0),  # DEL, C1 controls, no-break space
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),  # Arabic prepended format characters (Cf)
    (0x061C, 0x061C),  # Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),  # Hangul choseong / jungseong fillers
    (0x1680, 0x1680),  # Ogham space mark
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors, vowel separator
    (0x2000, 0x200F),  # spaces, zero width space / non-joiner / joiner, LRM, RLM
    (0x2028, 0x202F),  # line and paragraph separators, embeddings and overrides, narrow no-break space
    (0x205F, 0x206F),  # medium math space, word joiner, invisible operators, isolates, deprecated formats
    (0x2800, 0x2800),  # braille pattern blank
    (0x3000, 0x3000),  # ideographic space
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFFB),  # reserved ignorables, interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved ignorables
)
_STARTS = [start for start, _ in INVISIBLE_RANGES]

# Every character that changes the direction of the text around it (UAX #9): marks, embeddings, overrides,
# isolates. Dropped, not escaped: legitimate right-to-left text displays without them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WITHOUT_BIDI = str.maketrans(dict.fromkeys(map(ord, BIDI_CONTROLS)))


def _escaped(code_point: int) -> str:
    """A code point as an escape that Python's `re`, the Rust `regex` crate (pydantic) and JSON all read."""
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else f"\\U{code_point:08x}"


# One character that shows something: for the schemas' patterns, so a client learns the rule from OpenAPI.
VISIBLE_CHARACTER = "[^" + "".join(f"{_escaped(lo)}-{_escaped(hi)}" for lo, hi in INVISIBLE_RANGES) + "]"


def is_invisible(char: str) -> bool:
    """Whether this one character shows nothing on its own."""
    code_point = ord(char)
    i = bisect.bisect_right(_STARTS, code_point) - 1
    return i >= 0 and code_point <= INVISIBLE_RANGES[i][1]


def shows_nothing(text: str) -> bool:
    """True for "" and for text made only of invisible characters."""
    return all(is_invisible(char) for char in text)


def without_bidi_controls(text: str) -> str:
    """The text with every bidirectional control removed: it can no longer reorder what surrounds it."""
    return text.translate(_WITHOUT_BIDI)


def clean_text(raw: str, max_chars: int, what: str = "text") -> str:
    """What is stored of a person's text: bidirectional controls dropped, trimmed, free of control characters
    other than newlines and tabs, showing at least one visible character, and within the limit."""
    if not isinstance(raw, str):
        raise InvalidInputError(f"{what} must be a string")
    value = without_bidi_controls(raw).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise InvalidInputError(f"{what} contains control characters")
    if shows_nothing(value):
        raise InvalidInputError(f"{what} is empty")
    if len(value) > max_chars:
        raise InvalidInputError(f"{what} is longer than {max_chars} characters")
    return value


def preview_is_whole(text: str) -> bool:
    """The free preview already shows every word: the message is readable, and there is nothing to sell."""
    words = text.split()
    return len(words) <= PREVIEW_WORDS and len(" ".join(words)) <= PREVIEW_MAX_CHARS


def preview(text: str) -> str:
    """The free part of a message: its first three words that show something, capped so that one long word
    cannot reveal it all. Bidirectional controls are dropped (messages stored before they were refused may
    still hold some), so a preview cannot turn the notice around it."""
    words = [word for word in without_bidi_controls(text).split() if not shows_nothing(word)]
    head = " ".join(words[:PREVIEW_WORDS])
    if len(head) > PREVIEW_MAX_CHARS:
        head = head[:PREVIEW_MAX_CHARS]
    return head + ("…" if len(words) > PREVIEW_WORDS or len(head) < len(" ".join(words)) else "")
