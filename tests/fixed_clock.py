"""A clock that moves only when told to: what the tests hand the domain instead of the wall clock."""

from __future__ import annotations


class FixedClock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds
