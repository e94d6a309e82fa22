"""Shared fixtures: moto in-process DynamoDB with the template's tables, repositories, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB 22: time periods as timedelta, no deprecation warning

from murmur.config import Limits
from murmur.inbox import Inbox
from murmur.store.repositories import Repositories
from sandbox.tables import create_tables
from tests.fixed_clock import FixedClock

T0 = 1_790_000_000  # a fixed moment (2026-09) for reproducible tests


@pytest.fixture
def ddb() -> Iterator[Any]:
    from moto import mock_aws

    from murmur.store.dynamo import make_client

    with mock_aws():
        client = make_client("us-east-1")
        create_tables(client, "test-")
        yield client


@pytest.fixture
def repos(ddb: Any) -> Repositories:
    return Repositories.over(
        ddb,
        users="test-UsersTable",
        links="test-LinksTable",
        messages="test-MessagesTable",
        orders="test-OrdersTable",
        payments="test-PaymentsTable",
        state="test-StateTable",
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def inbox(repos: Repositories, clock: FixedClock, limits: Limits) -> Inbox:
    return Inbox(repos, clock, limits, b"pseudonym-secret-for-tests")
