"""What the sandbox's servers share: `with Server() as server:` starts it and stops it, whatever happens."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self


class Service:
    """A local server (the strict AWS endpoint, the fake Bot API, the whole stack): `start`, then `stop`."""

    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
