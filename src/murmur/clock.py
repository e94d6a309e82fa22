"""Time, injected: the domain never calls time.time() itself, so expiry is testable."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time, plus `offset`: 0 on AWS; the local stack sets it in each container to move the product's
    time (its "move the clock" button, `LocalStack.advance_clock`). Tests hand the domain a fixed clock instead."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset
