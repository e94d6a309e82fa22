"""A write that may go to any of several items (a tally shard) picks again after a TransactionConflict, instead
of waiting its turn at the item it collided on (`Transactions.write_each_try`, used by a send): on the strict
stack, where a transaction holds its items while in flight and another touching one of them is cancelled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from murmur.store.dynamo import Op
from sandbox.local_stack import LocalStack
from tests.functional.helpers import services_as

OWNER, DAY = 424242, 20_000
HELD_SECONDS = 1.0  # long enough that a retry at the same shard would have to wait it out


@pytest.fixture(scope="module")
def slow_stack() -> Iterator[LocalStack]:
    with LocalStack(transaction_seconds=HELD_SECONDS) as stack:
        yield stack


def test_a_conflict_on_one_shard_sends_the_retry_to_another(slow_stack: LocalStack) -> None:
    repos = services_as(slow_stack, "MiniAppApiFunction").repos
    holder = threading.Thread(target=lambda: repos.tx.write([repos.tallies.count_op(OWNER, 0, DAY, None)]))
    holder.start()
    for _ in range(1000):  # bounded: until shard 0 is in the other transaction's hands
        if slow_stack.aws.in_flight():
            break
        time.sleep(0.005)
    assert slow_stack.aws.in_flight()
    tries: list[int] = []

    def build() -> list[Op]:
        shard = 0 if not tries else 1  # the first try collides; a fresh pick goes elsewhere
        tries.append(shard)
        return [repos.tallies.count_op(OWNER, shard, DAY, None)]

    repos.tx.write_each_try(build)
    holder.join(10)
    assert tries == [0, 1]
    shards = repos.batch.get(repos.tallies.refs(OWNER, DAY), consistent=True)
    assert [s.today if s else 0 for s in shards][:2] == [1, 1]  # one each: the holder's and the retried write
