"""Fixed rate-limit windows: which window a moment falls in, and how long until it ends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed rate-limit window: its key suffix and when it ends."""

    start: int
    end: int

    @classmethod
    def at(cls, now: float, seconds: int) -> Window:
        start = int(now) // seconds * seconds
        return cls(start, start + seconds)

    def retry_after(self, now: float) -> int:
        return max(1, self.end - int(now))
