"""Which plural form a count takes, in each language Murmur speaks: CLDR's cardinal rules for whole numbers.

English and Spanish have "one" and "other"; Russian has "one" (1, 21, 101), "few" (2-4, 22-24) and "many" (0,
5-20, 25-30, 11-14). A few lines instead of Babel, which would cost every cold start for three rules."""

from __future__ import annotations

FORMS = {"en": ("one", "other"), "es": ("one", "other"), "ru": ("one", "few", "many")}


def category(language: str, count: int) -> str:
    """The plural form of `count` in `language` (one of LANGUAGES in `murmur.texts`)."""
    n = abs(count)
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"
