"""The local stack (moto server, fake Bot API, HTTP API emulator, real handlers) shared by a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.local_stack import LocalStack

ALICE, BOB, CARLA, DMITRI = 1001, 1002, 1003, 1004


@pytest.fixture(scope="module")
def module_stack() -> Iterator[LocalStack]:
    with LocalStack() as stack:
        yield stack


@pytest.fixture
def stack(module_stack: LocalStack) -> LocalStack:
    module_stack.bot_api.clear()
    return module_stack
