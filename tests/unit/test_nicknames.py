"""Nicknames within one inbox: derived from the per-recipient pseudonym, readable, and practically never shared."""

from __future__ import annotations

import math
import re

from murmur.pseudonyms import NICKNAME_SPACE, nickname, pseudonym

SECRET = b"unit-test pseudonym secret"
INBOX = 4_200_000_001


def nickname_collision_chance(senders: int, space: int = NICKNAME_SPACE) -> float:
    """The chance that two of `senders` to one inbox share a nickname (the birthday problem, exact product)."""
    distinct = 1.0
    for i in range(senders):
        distinct *= (space - i) / space
    return 1.0 - distinct


def test_two_thousand_senders_to_one_inbox_get_two_thousand_nicknames() -> None:
    names = {nickname(pseudonym(SECRET, INBOX, 7_000_000_000 + sender)) for sender in range(2000)}
    assert len(names) == 2000


def test_the_chance_of_a_shared_nickname_in_one_inbox_is_below_one_in_a_thousand_for_1000_senders() -> None:
    assert NICKNAME_SPACE >= 1_000_000_000
    for senders, bound in ((100, 1e-5), (1000, 1e-3), (2000, 2e-3)):
        chance = nickname_collision_chance(senders)
        # The birthday bound n(n-1)/2N, which the exact product approaches from below.
        assert chance < bound
        assert math.isclose(chance, senders * (senders - 1) / (2 * NICKNAME_SPACE), rel_tol=0.01)
    # What the old 20 x 20 x 90 names gave, for scale: 13 % for 100 senders.
    assert 0.12 < nickname_collision_chance(100, space=36_000) < 0.14


def test_a_nickname_is_stable_readable_and_names_nothing_of_the_sender() -> None:
    sender = 7_123_456_789
    name = nickname(pseudonym(SECRET, INBOX, sender))
    assert name == nickname(pseudonym(SECRET, INBOX, sender))
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ [1-9][0-9]{4}", name), name
    assert str(sender) not in name
    assert name != nickname(pseudonym(SECRET, INBOX + 1, sender))  # another inbox, another name (almost surely)
