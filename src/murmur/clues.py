"""The hint ladder: what each paid hint reveals about a message's sender, in order. The sender sees the ladder
before sending; the owner reads each clue in their own language."""

from __future__ import annotations

from murmur import texts
from murmur.models import Person


def clues_of(sender: Person) -> list[str]:
    """The hint ladder, in the order hints reveal it. The sender sees this list before sending."""
    clues = []
    if sender.language_code:
        clues.append(f"language:{sender.language_code.split('-')[0].lower()[:8]}")
    initial = sender.first_name.strip()[:1].upper()
    if initial:
        clues.append(f"initial:{initial}")
    clues.append(f"premium:{'yes' if sender.is_premium else 'no'}")
    return clues


def describe_clue(clue: str, language_code: str | None) -> str:
    kind, _, value = clue.partition(":")
    if kind == "language":
        return texts.text("clue_language", language_code, value=texts.language_name(value, language_code))
    if kind == "initial":
        return texts.text("clue_initial", language_code, value=value)
    return texts.text("clue_premium_yes" if value == "yes" else "clue_premium_no", language_code)
